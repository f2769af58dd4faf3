#!/usr/bin/env bash
# Provisions an agency in `amqp` delivery mode: a RabbitMQ user that can only read its own queue
# (<prefix>.agency.<CODE>), nothing else — no configure, no write, no other queue.
#   usage: scripts/provision-amqp-agency.sh <AGENCY_CODE> [prefix=hub] [vhost=/]
# The password is generated and printed once; hand it to the agency over a secure channel.
# Needs rabbitmqctl on the broker host (or set RABBITMQCTL="rabbitmqctl -n node@host").
set -euo pipefail
code="${1:?agency code}"; prefix="${2:-hub}"; vhost="${3:-/}"
ctl="${RABBITMQCTL:-rabbitmqctl}"
user="agency-${code}"
queue="${prefix}.agency.${code}"
re_queue="^$(printf '%s' "$queue" | sed 's/[.]/\\./g')\$"
pass="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)"
if $ctl -q list_users | awk '{print $1}' | grep -qx "$user"; then
  $ctl -q change_password "$user" "$pass"
else
  $ctl -q add_user "$user" "$pass"
fi
$ctl -q set_user_tags "$user"
# configure: nothing; write: nothing; read: its own queue only (the hub declares and fills it).
$ctl -q set_permissions -p "$vhost" "$user" '^$' '^$' "$re_queue"
echo "user:     $user"
echo "password: $pass"
echo "queue:    $queue (vhost $vhost) — consume with acknowledgements; deduplicate on message-id"
