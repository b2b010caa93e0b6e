#!/bin/sh
# Entrypoint of mcp-fleet/postgres: on the first start (an empty $PGDATA),
# create the cluster, the superuser POSTGRES_USER with its password, the
# database POSTGRES_DB, and run /docker-entrypoint-initdb.d/*.sh and *.sql —
# the same contract as the official postgres image, so compose can use
# either. Then run the server in the foreground (it is PID 1's only child
# and receives the stop signal directly through exec).
set -eu

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    password=$(cat "$POSTGRES_PASSWORD_FILE")
else
    password=${POSTGRES_PASSWORD:-}
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$password" ]; then
        echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
        exit 64
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$password" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    {
        echo "listen_addresses = '*'"
        echo "jit = off"
        echo "log_destination = 'stderr'"
        echo "logging_collector = off"
    } >> "$PGDATA/postgresql.conf"
    # Password authentication from every address of the compose network;
    # the socket inside the container stays trusted (only this user runs here).
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

    # Initialise on the socket only, so nothing connects before we are done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$db" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -q -U "$user" -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        case "$f" in
            *.sh) echo "postgres-entrypoint: running $f"; POSTGRES_USER=$user POSTGRES_DB=$db sh "$f" ;;
            *.sql) echo "postgres-entrypoint: running $f"; psql -v ON_ERROR_STOP=1 -q -U "$user" -d "$db" -f "$f" ;;
            *) echo "postgres-entrypoint: ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "postgres-entrypoint: cluster initialised"
fi

exec postgres -D "$PGDATA" "$@"
