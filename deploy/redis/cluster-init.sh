#!/bin/sh
# Join the compose profile "cluster"'s nodes into one Redis Cluster (once: a cluster already
# created is left as it is). NODES: "host:port ..." of every node; REPLICAS: replicas per
# primary. Runs as the admin ACL user (password from the Docker secret).
set -eu
secrets=${SECRETS_DIR:-/run/secrets}
REDISCLI_AUTH=$(cat "$secrets/redis_admin_password")
export REDISCLI_AUTH
cli() { redis-cli --user admin --no-auth-warning "$@"; }
first=${NODES%% *}
state() { cli -h "${first%:*}" -p "${first##*:}" cluster info | tr -d '\r' | grep '^cluster_state:'; }
if [ "$(state)" = "cluster_state:ok" ]; then
  echo "cluster already created"
  exit 0
fi
# redis-cli --cluster create takes addresses: resolve the nodes' names first.
addresses=""
for node in $NODES; do
  host=${node%:*}
  ip=$(getent hosts "$host" 2>/dev/null | awk '{ print $1; exit }') || true
  addresses="$addresses ${ip:-$host}:${node##*:}"
done
# shellcheck disable=SC2086  # one word per address
cli --cluster create $addresses --cluster-replicas "${REPLICAS:-1}" --cluster-yes
tries=0
until [ "$(state)" = "cluster_state:ok" ]; do
  tries=$((tries + 1))
  [ "$tries" -le 60 ] || { echo "cluster not ok after 60 s" >&2; exit 1; }
  sleep 1
done
echo "cluster created: $NODES"
