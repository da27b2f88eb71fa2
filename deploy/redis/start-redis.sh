#!/bin/sh
# Start Redis with newsflow's ACL users. Passwords come from Docker secrets
# (/run/secrets/redis_<user>_password); only their SHA-256 hashes are written to the ACL file.
set -eu
secrets=${SECRETS_DIR:-/run/secrets}
hash() {
  file="$secrets/redis_$1_password"
  [ -s "$file" ] || { echo "missing secret $file" >&2; exit 1; }
  printf '%s' "$(cat "$file")" | sha256sum | cut -d' ' -f1
}
acl=${ACL_FILE:-/tmp/users.acl}
sed -e "s|\${PREFIX}|${NEWSFLOW_STREAM_PREFIX:-}|g" \
    -e "s|\${KEYS}|${NEWSFLOW_KEY_PREFIX:-newsflow:}|g" \
    -e "s|\${ADMIN_HASH}|$(hash admin)|" \
    -e "s|\${PUBLISHER_HASH}|$(hash publisher)|" \
    -e "s|\${DEDUP_HASH}|$(hash dedup)|" \
    -e "s|\${LANGUAGE_HASH}|$(hash language)|" \
    -e "s|\${ENTITY_HASH}|$(hash entity)|" \
    -e "s|\${WEB_HASH}|$(hash web)|" \
    "${ACL_TEMPLATE:-/etc/newsflow/users.acl.template}" | grep -v '^#' > "$acl"
chmod 0644 "$acl"  # hashes only; readable by the unprivileged redis user
# A cluster node (compose profile "cluster") replicates from its primary as REDIS_MASTERUSER,
# since the default user is off. The password goes in a config file, not on the command line.
conf=""
if [ -n "${REDIS_MASTERUSER:-}" ]; then
  conf=${REPLICATION_CONF:-/tmp/replication.conf}
  umask 077
  printf 'masteruser %s\nmasterauth "%s"\n' "$REDIS_MASTERUSER" \
    "$(cat "$secrets/redis_${REDIS_MASTERUSER}_password")" > "$conf"
  chown redis "$conf" 2>/dev/null || true  # the official image runs redis-server as redis
fi
# In the official image, its entrypoint drops root (chowns /data, runs as user redis).
if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  exec docker-entrypoint.sh redis-server $conf --aclfile "$acl" "$@"
fi
exec redis-server $conf --aclfile "$acl" "$@"
