#!/bin/sh
# Runs once, when the fleet's PostgreSQL cluster is created (mounted into
# /docker-entrypoint-initdb.d; works with mcp-fleet/postgres and with the
# official image). Least privilege: every program that keeps state logs in
# with a role of its own — not the superuser — that may create and use its
# own tables in `public` and nothing more; and `fleet_query`, the role
# mcp-server-sql runs untrusted `sql_query` statements as, may only SELECT
# the sql server's tables (granted through default privileges as they are
# created) in read-only sessions. None of them is a superuser or a member of
# pg_read_server_files, pg_write_server_files, pg_execute_server_program or
# pg_signal_backend, so a statement that slips past every other check still
# cannot read server files, run programs or end other sessions.
#
# The roles share POSTGRES_PASSWORD (FLEET_DB_PASSWORD in .env): what keeps
# them apart is what each may do. Idempotent, so tests can run it against a
# shared cluster.
set -eu
password=${POSTGRES_PASSWORD:-}
if [ -z "$password" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ] && [ -s "$POSTGRES_PASSWORD_FILE" ]; then
    password=$(cat "$POSTGRES_PASSWORD_FILE")
fi
psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v pw="$password" -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', r)
  FROM unnest(ARRAY['fleet_email', 'fleet_sql', 'fleet_log', 'fleet_observer', 'fleet_planner', 'fleet_agent', 'fleet_test',
                    'fleet_gateway', 'fleet_registry', 'fleet_spec', 'fleet_query']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
-- \gexec runs each generated statement without echoing it: the password never reaches a log.
SELECT format('ALTER ROLE %I PASSWORD %L', r, :'pw')
  FROM unnest(ARRAY['fleet_email', 'fleet_sql', 'fleet_log', 'fleet_observer', 'fleet_planner', 'fleet_agent', 'fleet_test',
                    'fleet_gateway', 'fleet_registry', 'fleet_spec', 'fleet_query']) AS r
 WHERE :'pw' <> '' \gexec
GRANT CONNECT ON DATABASE :"db" TO fleet_email, fleet_sql, fleet_log, fleet_observer, fleet_planner, fleet_agent, fleet_test, fleet_registry, fleet_spec,
                                  fleet_gateway, fleet_query;
GRANT USAGE, CREATE ON SCHEMA public TO fleet_email, fleet_sql, fleet_log, fleet_observer, fleet_planner, fleet_agent, fleet_test, fleet_registry, fleet_spec,
                                        fleet_gateway;
GRANT USAGE ON SCHEMA public TO fleet_query;
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_sql IN SCHEMA public GRANT SELECT ON TABLES TO fleet_query;
ALTER ROLE fleet_query SET default_transaction_read_only = on;
ALTER ROLE fleet_query SET statement_timeout = '30s';
SQL
