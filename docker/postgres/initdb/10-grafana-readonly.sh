#!/bin/sh
# Runs once, when the fleet's PostgreSQL cluster is created (mounted into
# /docker-entrypoint-initdb.d; works with mcp-fleet/postgres and with the
# official image). Creates the read-only role Grafana's `fleet-postgres`
# datasource logs in with (monitoring/README.md): it may read every table the
# fleet's programs create in `public` — now and later, through default
# privileges — and write nothing. Its password is GRAFANA_DB_PASSWORD (or
# the file GRAFANA_DB_PASSWORD_FILE): the environment, because Grafana's
# provisioning reads the same value from its environment (${POSTGRES_PASSWORD}
# in monitoring/grafana/provisioning/datasources/datasources.yml).
set -eu
password=${GRAFANA_DB_PASSWORD:-}
if [ -z "$password" ] && [ -n "${GRAFANA_DB_PASSWORD_FILE:-}" ] && [ -s "$GRAFANA_DB_PASSWORD_FILE" ]; then
    password=$(cat "$GRAFANA_DB_PASSWORD_FILE")
fi
if [ -z "$password" ]; then
    echo "10-grafana-readonly: GRAFANA_DB_PASSWORD is not set; role grafana_ro not created" >&2
    exit 0
fi
psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v pw="$password" -v db="$POSTGRES_DB" \
    -v owner="$POSTGRES_USER" <<'SQL'
CREATE ROLE grafana_ro LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"db" TO grafana_ro;
GRANT USAGE ON SCHEMA public TO grafana_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
-- The tables Grafana reads belong to the programs' own roles (05-fleet-roles.sh).
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_observer IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_log IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_sql IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_planner IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE fleet_agent IN SCHEMA public GRANT SELECT ON TABLES TO grafana_ro;
ALTER ROLE grafana_ro SET default_transaction_read_only = on;
SQL
