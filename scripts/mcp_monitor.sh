#!/usr/bin/env bash
# mcp_monitor.sh - the trace debugger: give it a trace_id and it prints the
# cross-service timeline of that trace, merged and time-ordered:
#   - spans from mcp-client-observer (GET /api/traces/{id}?decisions=true),
#     indented under their parents, with service, name, duration and status;
#   - the decisions recorded under the trace (the observer fetches them from
#     mcp-server-sql);
#   - log lines from mcp-server-log (GET /api/logs?trace_id=...).
# With --follow it polls again every --interval seconds and prints only the
# entries it has not printed yet, until interrupted.
#
# Usage: mcp_monitor.sh TRACE_ID [--follow] [--interval N]
#
# Environment:
#   OBSERVER_URL    the observer's base URL   (default http://127.0.0.1:8204, `cargo xtask up`)
#   LOG_URL         the log server's base URL (default http://127.0.0.1:8107)
#   MCP_TOKEN       bearer token for both; or
#   MCP_TOKEN_FILE  a file holding it         (default ./.data/token when it exists)
#
# Exit status: 0 when something was printed (or in follow mode), 1 when
# neither source knows the trace, 2 on a usage error, 3 when a source failed.
# Needs bash, curl and python3.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
    echo "mcp_monitor: $*" >&2
    exit 2
}

trace_id=""
follow=0
interval=2
while [ $# -gt 0 ]; do
    case "$1" in
        -f | --follow) follow=1 ;;
        -i | --interval)
            [ $# -ge 2 ] || die "--interval needs a number of seconds"
            interval="$2"
            shift
            ;;
        --interval=*) interval="${1#--interval=}" ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) die "unknown option $1 (see --help)" ;;
        *)
            [ -z "$trace_id" ] || die "one trace id only (see --help)"
            trace_id="$1"
            ;;
    esac
    shift
done
[ -n "$trace_id" ] || die "give a trace id (see --help)"
trace_id="$(printf '%s' "$trace_id" | tr 'A-F' 'a-f')"
[[ "$trace_id" =~ ^[0-9a-f]{32}$ ]] || die "$trace_id is not a trace id: expected 32 hex digits"
[[ "$interval" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--interval must be a number of seconds"

observer_url="${OBSERVER_URL:-http://127.0.0.1:8204}"
log_url="${LOG_URL:-http://127.0.0.1:8107}"
token="${MCP_TOKEN:-}"
if [ -z "$token" ]; then
    token_file="${MCP_TOKEN_FILE:-}"
    if [ -z "$token_file" ] && [ -f .data/token ]; then
        token_file=.data/token
    fi
    if [ -n "$token_file" ]; then
        [ -r "$token_file" ] || die "cannot read MCP_TOKEN_FILE $token_file"
        token="$(tr -d '[:space:]' <"$token_file")"
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'exit 0' INT TERM
# The token goes to curl through a header file, never on a command line
# where `ps` would show it.
umask 077
: >"$work/headers"
if [ -n "$token" ]; then
    printf 'Authorization: Bearer %s\n' "$token" >"$work/headers"
fi
: >"$work/seen"

# fetch URL OUT: the body into OUT; prints the HTTP status (000 when unreachable).
fetch() {
    curl -sS --max-time 10 -H @"$work/headers" -o "$2" -w '%{http_code}' "$1" 2>"$work/curl.err" || true
}

poll() {
    local spans_status logs_status
    spans_status="$(fetch "$observer_url/api/traces/$trace_id?decisions=true" "$work/spans.json")"
    logs_status="$(fetch "$log_url/api/logs?trace_id=$trace_id&limit=1000" "$work/logs.json")"
    python3 - "$work" "$spans_status" "$logs_status" "$observer_url" "$log_url" <<'PY'
import json, os, sys
from datetime import datetime, timezone

work, spans_status, logs_status, observer_url, log_url = sys.argv[1:6]
seen_path = os.path.join(work, "seen")
with open(seen_path) as f:
    seen = set(line.rstrip("\n") for line in f)
entries = []  # (ts_ms, order, key, text)
problems = []

def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def iso_ms(ts):
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000.0
    except (AttributeError, ValueError):
        return 0.0

def when(ms):
    dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(ms) % 1000)

found = {"spans": False, "logs": False}
if spans_status == "200":
    body = load("spans.json") or {}
    trace = body.get("trace") or {}
    found["spans"] = bool(trace.get("roots"))
    def walk(node, depth):
        start = iso_ms(node.get("start")) or float(node.get("start_ms", 0))
        status = node.get("status_code", "UNSET")
        msg = node.get("status_message") or ""
        text = "%s SPAN     %-24s %s%s %.3fms %s%s [span %s]" % (
            when(start), node.get("service", "?"), "  " * depth, node.get("name", "?"),
            float(node.get("duration_ms", 0)), status, (" " + msg) if msg else "", node.get("span_id", "?"))
        entries.append((start, 1, "span:" + node.get("span_id", ""), text))
        for child in node.get("children", []):
            walk(child, depth + 1)
    for root in trace.get("roots", []):
        walk(root, 0)
    for d in body.get("decisions") or []:
        ms = float(d.get("created_ms") or iso_ms(d.get("created_at")))
        why = d.get("rationale") or ""
        text = "%s DECISION %-24s %s%s (project %s)" % (
            when(ms), d.get("actor", "?"), d.get("decision", "?"), (": " + why) if why else "", d.get("project") or "-")
        entries.append((ms, 0, "decision:%s" % d.get("id"), text))
    for w in body.get("warnings") or []:
        problems.append("observer: " + w)
elif spans_status != "404":
    problems.append("observer %s answered %s" % (observer_url, spans_status if spans_status != "000" else "nothing (unreachable)"))

if logs_status == "200":
    body = load("logs.json") or {}
    lines = body.get("lines") or []
    found["logs"] = bool(lines)
    for i, l in enumerate(lines):
        ms = iso_ms(l.get("ts") or l.get("timestamp"))
        text = "%s LOG      %-24s %-5s %s" % (when(ms), l.get("service", "?"), l.get("level", "?"), l.get("message", ""))
        fields = l.get("fields")
        if isinstance(fields, dict) and fields:
            text += " " + json.dumps(fields, sort_keys=True, separators=(",", ":"))
        key = "log:%s|%s|%s|%s" % (l.get("ts"), l.get("service"), l.get("span_id"), l.get("message"))
        entries.append((ms, 2, key.replace("\n", " "), text))
else:
    problems.append("log server %s answered %s" % (log_url, logs_status if logs_status != "000" else "nothing (unreachable)"))

entries.sort(key=lambda e: (e[0], e[1]))
new = [e for e in entries if e[2] not in seen]
for e in new:
    print(e[3])
with open(seen_path, "a") as f:
    for e in new:
        f.write(e[2] + "\n")
sys.stdout.flush()
for p in problems:
    print("mcp_monitor: " + p, file=sys.stderr)
with open(os.path.join(work, "state"), "w") as f:
    f.write("%d %d %d\n" % (len(entries), len(new), len(problems)))
PY
}

if [ "$follow" -eq 1 ]; then
    echo "following trace $trace_id every ${interval}s (Ctrl-C to stop)" >&2
    while true; do
        poll || true
        sleep "$interval"
    done
fi

poll
read -r total _new problems <"$work/state"
if [ "$total" -eq 0 ]; then
    echo "mcp_monitor: nothing known about trace $trace_id (yet): spans are exported in batches every few seconds" >&2
    [ "$problems" -eq 0 ] && exit 1
    exit 3
fi
[ "$problems" -eq 0 ] || exit 3
exit 0
