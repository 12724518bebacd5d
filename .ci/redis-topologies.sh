#!/usr/bin/env bash
# Starts or stops the Redis topologies the redisstore tests run on besides a
# single Redis: a 3-master Redis Cluster and a Sentinel setup (1 master,
# 1 replica, 1 sentinel), all on 127.0.0.1, without persistence.
#
#   bash .ci/redis-topologies.sh start   # idempotent; prints the URLs to export
#   bash .ci/redis-topologies.sh stop    # idempotent
#   bash .ci/redis-topologies.sh env     # prints the export lines only
#
# Ports: cluster 17001-17003 (cluster bus 27001-27003), Sentinel master
# 16380, replica 16381, sentinel 26390; the master set is "sessionkit".
# State lives in $SESSIONKIT_REDIS_TOPOLOGY_DIR (default
# ${TMPDIR:-/tmp}/sessionkit-redis-topologies).
set -euo pipefail

DIR="${SESSIONKIT_REDIS_TOPOLOGY_DIR:-${TMPDIR:-/tmp}/sessionkit-redis-topologies}"
CLUSTER_PORTS=(17001 17002 17003)
MASTER_PORT=16380
REPLICA_PORT=16381
SENTINEL_PORT=26390
MASTER_SET=sessionkit

ping() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

# wait_for tries a command every 0.1 s for at most $1 tenths of a second.
wait_for() {
  local n=$1; shift
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# server starts a redis-server on port $1 unless one answers there; the
# other arguments are added to its command line.
server() {
  local port=$1; shift
  ping "$port" && return 0
  mkdir -p "$DIR/$port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$DIR/$port" --pidfile "$DIR/$port/redis.pid" --logfile "$DIR/$port/redis.log" \
    --daemonize yes "$@" >/dev/null
  wait_for 50 ping "$port" || { echo "redis-server on port $port did not answer" >&2; tail -5 "$DIR/$port/redis.log" >&2; return 1; }
}

cluster_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

start_cluster() {
  for p in "${CLUSTER_PORTS[@]}"; do
    server "$p" --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" --cluster-node-timeout 2000
  done
  if ! cluster_ok "${CLUSTER_PORTS[0]}"; then
    local addrs=()
    for p in "${CLUSTER_PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/cluster-create.log" 2>&1 ||
      { cat "$DIR/cluster-create.log" >&2; return 1; }
  fi
  for p in "${CLUSTER_PORTS[@]}"; do
    wait_for 100 cluster_ok "$p" || { echo "cluster node $p: cluster_state is not ok" >&2; return 1; }
  done
}

sentinel_knows_master() {
  redis-cli -h 127.0.0.1 -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$MASTER_SET" 2>/dev/null | grep -q .
}

# replica_synced: one of the two servers is a replica in sync (after a
# failover the roles are swapped).
replica_synced() {
  local p
  for p in "$MASTER_PORT" "$REPLICA_PORT"; do
    redis-cli -h 127.0.0.1 -p "$p" info replication 2>/dev/null | grep -q 'master_link_status:up' && return 0
  done
  return 1
}

start_sentinel() {
  # DEBUG SLEEP from loopback lets bench/cmd/failover freeze the master.
  server "$MASTER_PORT" --enable-debug-command local
  server "$REPLICA_PORT" --enable-debug-command local --replicaof 127.0.0.1 "$MASTER_PORT"
  wait_for 100 replica_synced || { echo "no replica of the Sentinel setup is in sync" >&2; return 1; }
  if ! ping "$SENTINEL_PORT"; then
    mkdir -p "$DIR/$SENTINEL_PORT"
    # Sentinel rewrites its configuration file: it must be writable.
    cat >"$DIR/$SENTINEL_PORT/sentinel.conf" <<EOF
port $SENTINEL_PORT
bind 127.0.0.1
dir $DIR/$SENTINEL_PORT
pidfile $DIR/$SENTINEL_PORT/redis.pid
logfile $DIR/$SENTINEL_PORT/redis.log
daemonize yes
sentinel monitor $MASTER_SET 127.0.0.1 $MASTER_PORT 1
sentinel down-after-milliseconds $MASTER_SET 1000
sentinel failover-timeout $MASTER_SET 5000
sentinel parallel-syncs $MASTER_SET 1
EOF
    redis-server "$DIR/$SENTINEL_PORT/sentinel.conf" --sentinel >/dev/null
  fi
  wait_for 100 sentinel_knows_master || { echo "the sentinel on $SENTINEL_PORT does not know $MASTER_SET" >&2; return 1; }
}

print_env() {
  echo "export SESSIONKIT_REDIS_CLUSTER_URL='redis://127.0.0.1:${CLUSTER_PORTS[0]}?addr=127.0.0.1:${CLUSTER_PORTS[1]}&addr=127.0.0.1:${CLUSTER_PORTS[2]}'"
  echo "export SESSIONKIT_REDIS_SENTINEL_URL='redis://127.0.0.1:$SENTINEL_PORT/0?master_set=$MASTER_SET'"
}

stop_all() {
  local port pid
  for port in "$SENTINEL_PORT" "$REPLICA_PORT" "$MASTER_PORT" "${CLUSTER_PORTS[@]}"; do
    [ -f "$DIR/$port/redis.pid" ] || continue
    pid=$(cat "$DIR/$port/redis.pid")
    # Only a redis-server this script started: its pid file is in $DIR.
    if kill -0 "$pid" 2>/dev/null && grep -q redis "/proc/$pid/comm" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  rm -rf "$DIR"
}

case "${1:-}" in
  start)
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
      { echo "redis-server and redis-cli are needed (Debian: apt-get install redis-server)" >&2; exit 1; }
    mkdir -p "$DIR"
    start_cluster
    start_sentinel
    print_env
    ;;
  stop) stop_all ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
