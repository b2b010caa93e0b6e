#!/bin/bash
# Health of mcp-fleet/prometheus: GET /-/healthy answers 200. Plain bash
# (/dev/tcp), because the image has neither curl nor promtool (dropped for
# size) and Debian's promtool 2.42 has no `check healthy` yet.
set -u
exec 3<>/dev/tcp/127.0.0.1/9090 || exit 1
printf 'GET /-/healthy HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == "HTTP/1."?" 200"* ]]
