#!/bin/sh
# mcp-fleet-health [--wait SECONDS] [PROJECT]
#
# Exit 0 when every container of the compose project (default mcp-fleet) is
# running and healthy (or has no health check), else print the others and
# exit 1. With --wait, retry every 2 s for up to SECONDS first. The systemd
# timer the playbook installs runs it; docker-compose v1, which has no
# `up --wait`, uses it to wait after `up`. Only the docker CLI is needed.
set -eu

wait_secs=0
if [ "${1:-}" = "--wait" ]; then
    wait_secs=$2
    shift 2
fi
project=${1:-mcp-fleet}

check() {
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
    if [ -z "$ids" ]; then
        echo "mcp-fleet-health: no containers in project $project"
        return 1
    fi
    # shellcheck disable=SC2086 # one argument per container id
    bad=$(docker inspect --format \
        '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' $ids |
        awk '!($2 == "running" && ($3 == "healthy" || $3 == "none"))')
    if [ -n "$bad" ]; then
        echo "mcp-fleet-health: not healthy (name, state, health):"
        echo "$bad"
        return 1
    fi
    return 0
}

deadline=$(($(date +%s) + wait_secs))
until out=$(check); do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "$out" >&2
        exit 1
    fi
    sleep 2
done
echo "mcp-fleet-health: every container of $project is healthy"
