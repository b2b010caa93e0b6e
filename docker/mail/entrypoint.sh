#!/bin/bash
# Entrypoint of mcp-fleet/mail: writes Dovecot's and Postfix's configuration
# from MAIL_DOMAIN and MAIL_USERS (passwords from the compose secrets
# /run/secrets/mail_password_<user>, never from the image or the
# environment), then runs both in the foreground and stops the container
# when either exits, so compose's restart policy brings the pair back
# together. See the Dockerfile for what this server is (and is not) for.
set -euo pipefail

domain=${MAIL_DOMAIN:?MAIL_DOMAIN is required}
secrets=${MAIL_SECRETS_DIR:-/run/secrets}
if ! [[ $domain =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]]; then
    echo "mail: MAIL_DOMAIN=$domain is not a domain name" >&2
    exit 64
fi

# Accounts: Dovecot's passwd-file and Postfix's list of mailboxes.
IFS=',' read -r -a users <<< "${MAIL_USERS:?MAIL_USERS is required}"
umask 027
: > /etc/dovecot/users
: > /etc/postfix/vmailbox
for u in "${users[@]}"; do
    u=${u// /}
    [[ -n $u ]] || continue
    if ! [[ $u =~ ^[a-z0-9][a-z0-9._-]*$ ]]; then
        echo "mail: user name $u is not [a-z0-9._-]" >&2
        exit 64
    fi
    f="$secrets/mail_password_$u"
    if [[ ! -s $f ]]; then
        echo "mail: no password for $u: $f is missing or empty" >&2
        exit 64
    fi
    pw=$(head -n1 "$f")
    if [[ $pw == *:* ]]; then
        echo "mail: the password of $u contains ':', which Dovecot's passwd-file cannot hold" >&2
        exit 64
    fi
    echo "$u@$domain:{PLAIN}$pw" >> /etc/dovecot/users
    echo "$u@$domain OK" >> /etc/postfix/vmailbox
done
chown root:dovecot /etc/dovecot/users
umask 022

cat > /etc/dovecot/dovecot.conf <<CONF
protocols = imap lmtp
listen = *
base_dir = /run/dovecot
log_path = /dev/stderr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u /etc/dovecot/users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=/var/mail/vhosts/%d/%n
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  postmaster_address = postmaster@$domain
}
CONF

cat > /etc/postfix/main.cf <<CONF
compatibility_level = 3.6
myhostname = mail.$domain
mydomain = $domain
myorigin = $domain
mydestination =
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = $domain
virtual_mailbox_maps = texthash:/etc/postfix/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:24
relayhost =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
message_size_limit = 104857600
maillog_file = /dev/stdout
smtpd_banner = \$myhostname ESMTP
CONF

# Debian's master.cf with every service out of the chroot (the container is
# the isolation) and a submission service that requires a login.
sed -i -E 's/^([a-z0-9:.]+[[:space:]]+(inet|unix|unix-dgram|fifo|pass)[[:space:]]+[-yn][[:space:]]+[-yn][[:space:]]+)[-yn]/\1n/' \
    /etc/postfix/master.cf
if ! grep -q '^submission ' /etc/postfix/master.cf; then
    cat >> /etc/postfix/master.cf <<'CONF'
submission inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=private/auth
  -o smtpd_tls_security_level=none
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
CONF
fi

install -d -o vmail -g vmail -m 0770 "/var/mail/vhosts/$domain"
postfix set-permissions >/dev/null 2>&1 || true
postfix check

pids=()
stopping=no
stop() {
    stopping=yes
    postfix stop >/dev/null 2>&1 || true
    kill -TERM "${pids[@]}" 2>/dev/null || true
}
trap stop TERM INT

/usr/sbin/dovecot -F &
pids+=($!)
postfix start-fg &
pids+=($!)
echo "mail: serving $domain for ${users[*]} (IMAP 143, SMTP 25, submission 587)"

# Whichever exits first takes the container down with it.
set +e
wait -n "${pids[@]}"
status=$?
[[ $stopping == yes ]] && status=0
stop
wait
exit "$status"
