#!/bin/bash
# Health of mcp-fleet/mail: each listener answers with its greeting — IMAP
# (Dovecot) on 143, SMTP (Postfix) on 25 and 587. A port that accepts but
# does not greet (a wedged daemon) counts as down.
set -u
greets() {
    local port=$1 want=$2 line
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    IFS= read -r -t 3 line <&3 || return 1
    exec 3<&- 3>&-
    [[ $line == "$want"* ]]
}
greets 143 '* OK' && greets 25 '220' && greets 587 '220'
