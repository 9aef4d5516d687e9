#!/usr/bin/env bash
# Starts a NameServer and one of the sample clusters of conf/ on loopback, from the compiled ./tsmq.
#
#   scripts/start-cluster.sh [2m-2s-async|2m-2s-sync|2m-noslave]   start (default 2m-2s-async)
#   scripts/start-cluster.sh stop                                   stop the running cluster
#   scripts/start-cluster.sh status                                 list its processes
#
# Every process runs with a temporary run directory as its working directory, so the brokers'
# relative store paths, the pid files and the logs all land there (printed at start; kept after
# stop for inspection). Environment: TSMQ_BIN (default <repo>/tsmq), NAMESRV_PORT (default 9876).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TSMQ_BIN="${TSMQ_BIN:-$REPO_DIR/tsmq}"
NAMESRV_PORT="${NAMESRV_PORT:-9876}"
# Remembers the run directory of the cluster started last, for `stop` and `status`.
STATE_FILE="${TMPDIR:-/tmp}/tsmq-cluster.current"
# How long a process may take to print its boot line before the start is abandoned.
BOOT_TIMEOUT_SECONDS=20
# How long `stop` waits for a SIGTERM'd process before SIGKILL.
STOP_TIMEOUT_SECONDS=15

die() { echo "start-cluster: $*" >&2; exit 1; }

is_running() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# wait_for_line <pid> <log file> <regex>: waits until <regex> matches the log or the process dies.
wait_for_line() {
  local pid=$1 log=$2 text=$3 waited=0
  while ! grep -Eq "$text" "$log" 2>/dev/null; do
    is_running "$pid" || { tail -n 20 "$log" >&2; return 1; }
    [ "$waited" -ge $((BOOT_TIMEOUT_SECONDS * 10)) ] && { tail -n 20 "$log" >&2; return 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Lines the processes print once up: Java's "boot success", tsmq's broker "ready on".
BOOT_LINE="boot success|ready on"

# launch <name> <boot line regex> <args...>: starts ./tsmq in the run directory, records its pid.
launch() {
  local name=$1 text=$2
  shift 2
  (cd "$RUN_DIR" && exec "$TSMQ_BIN" "$@") >"$RUN_DIR/logs/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$RUN_DIR/pids/$name.pid"
  if ! wait_for_line "$pid" "$RUN_DIR/logs/$name.log" "$text"; then
    echo "start-cluster: $name did not start (log: $RUN_DIR/logs/$name.log); stopping the cluster" >&2
    stop_cluster
    exit 1
  fi
  echo "  $name  pid $pid  log $RUN_DIR/logs/$name.log"
}

stop_cluster() {
  [ -f "$STATE_FILE" ] || { echo "start-cluster: no cluster recorded in $STATE_FILE"; return 0; }
  local run_dir pid_file pid waited
  run_dir="$(cat "$STATE_FILE")"
  # Slaves and brokers first, the namesrv last, so brokers can unregister.
  for pid_file in $(ls "$run_dir"/pids/*.pid 2>/dev/null | grep -v '/namesrv.pid$') "$run_dir/pids/namesrv.pid"; do
    [ -f "$pid_file" ] || continue
    pid="$(cat "$pid_file")"
    if is_running "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      waited=0
      while is_running "$pid" && [ "$waited" -lt $((STOP_TIMEOUT_SECONDS * 10)) ]; do
        sleep 0.1
        waited=$((waited + 1))
      done
      is_running "$pid" && kill -KILL "$pid" 2>/dev/null || true
      echo "  stopped $(basename "$pid_file" .pid) (pid $pid)"
    fi
    rm -f "$pid_file"
  done
  rm -f "$STATE_FILE"
  echo "start-cluster: stopped; logs and stores kept in $run_dir"
}

status_cluster() {
  [ -f "$STATE_FILE" ] || { echo "no cluster running"; return 0; }
  local run_dir pid_file pid
  run_dir="$(cat "$STATE_FILE")"
  echo "run directory: $run_dir"
  for pid_file in "$run_dir"/pids/*.pid; do
    [ -f "$pid_file" ] || continue
    pid="$(cat "$pid_file")"
    if is_running "$pid"; then state=running; else state=dead; fi
    echo "  $(basename "$pid_file" .pid)  pid $pid  $state"
  done
}

case "${1:-2m-2s-async}" in
  stop) stop_cluster; exit 0 ;;
  status) status_cluster; exit 0 ;;
  2m-2s-async | 2m-2s-sync | 2m-noslave) MODE="${1:-2m-2s-async}" ;;
  *) die "usage: $0 [2m-2s-async|2m-2s-sync|2m-noslave|stop|status]" ;;
esac

[ -x "$TSMQ_BIN" ] || die "$TSMQ_BIN not found or not executable (build it with: bun run build)"
if [ -f "$STATE_FILE" ]; then
  die "a cluster is already recorded in $STATE_FILE ($(cat "$STATE_FILE")); run '$0 stop' first"
fi

CONF_DIR="$REPO_DIR/conf/$MODE"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tsmq-cluster.XXXXXX")"
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pids"
echo "$RUN_DIR" >"$STATE_FILE"
NAMESRV_ADDR="127.0.0.1:$NAMESRV_PORT"

echo "start-cluster: $MODE in $RUN_DIR"
launch namesrv "$BOOT_LINE" namesrv -p "$NAMESRV_PORT"
# Masters before slaves: a slave learns its master's HA address when it registers.
for conf in "$CONF_DIR"/*.properties; do
  case "$conf" in *-s.properties) continue ;; esac
  launch "$(basename "$conf" .properties)" "$BOOT_LINE" broker -c "$conf" -n "$NAMESRV_ADDR"
done
for conf in "$CONF_DIR"/*-s.properties; do
  [ -f "$conf" ] || continue
  launch "$(basename "$conf" .properties)" "$BOOT_LINE" broker -c "$conf" -n "$NAMESRV_ADDR"
done
echo "start-cluster: up; namesrv $NAMESRV_ADDR; stop with: $0 stop"
