#!/usr/bin/env bash
# Benchmark: incidents through the API with 16 connections (wrk, from outside the process)
# on SQLite and PostgreSQL, with N incidents present (default 100,000):
#   - list open incidents of one group, page of 50;
#   - get one incident;
#   - full-text search (page of 50);
#   - create incidents (recognition, SLA clock, audit, search index, durable commit);
# and the server's RSS. Prints figures; asserts nothing.
#
#   scripts/bench-incidents.sh [duration_seconds]   (default 15)
#   SEED=100000 PG_URL=postgres://… scripts/bench-incidents.sh
#   BACKENDS=postgres scripts/bench-incidents.sh     (one backend only)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
SEED=${SEED:-100000}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q
BIN=$PWD/target/release/custos
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18182

if [ -z "${PG_URL:-}" ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS custos_bench_inc" >/dev/null
  psql -h 127.0.0.1 -U postgres -d postgres -qAtc "CREATE DATABASE custos_bench_inc" >/dev/null
  PG_URL=postgres://postgres@127.0.0.1:5432/custos_bench_inc
fi

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# CPU seconds (user + system) the processes have used so far.
cpu() { local t=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done
  echo "$t $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'; }
rss() { echo "RSS $(grep VmRSS /proc/$1/status | awk '{printf "%.1f MiB", $2/1024}'), peak $(grep VmHWM /proc/$1/status | awk '{printf "%.1f MiB", $2/1024}')"; }

run() {
  local name=$1; shift
  local db=("$@")
  echo "== $name: seeding $SEED incidents"
  local out; out=$("$BIN" bench incidents --seed "$SEED" "${db[@]}")
  local token group service incident
  token=$(field "$out" token); group=$(field "$out" group)
  service=$(field "$out" service); incident=$(field "$out" incident)
  CUSTOS_CLOCK_INTERVAL_MS=0 "$BIN" serve "${db[@]}" --listen 127.0.0.1:$PORT >"$WORK/$name.log" 2>&1 &
  local pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
  local base="http://127.0.0.1:$PORT/api/v1"
  local auth="Authorization: Bearer $token"
  wrk -t2 -c16 -d2s -H "$auth" "$base/incidents/$incident" >/dev/null  # warm-up
  echo "-- list open incidents of a group, page of 50"
  wrk -t2 -c16 -d"${DURATION}s" --latency -H "$auth" "$base/incidents?open=true&group=$group&limit=50" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx"
  echo "-- get one incident"
  wrk -t2 -c16 -d"${DURATION}s" --latency -H "$auth" "$base/incidents/$incident" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx"
  echo "-- full-text search 'payroll export', page of 50"
  wrk -t2 -c16 -d"${DURATION}s" --latency -H "$auth" "$base/incidents?q=payroll%20export&limit=50" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx"
  echo "-- $(rss $pid) after the reads"
  cat >"$WORK/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"VPN drops every few minutes","description":"Since this morning the VPN client disconnects every 3 to 5 minutes.","category":"network","impact":"medium","urgency":"high","service":"$service"}'
LUA
  echo "-- create incidents"
  local pg0 srv0; pg0=$(cpu $(pgrep -x postgres)); srv0=$(cpu $pid)
  local TIMEFORMAT="wrk itself: %U s user, %S s system"
  time (wrk -t2 -c16 -d"${DURATION}s" --latency -s "$WORK/create.lua" -H "$auth" "$base/incidents" \
    | tee "$WORK/create.out" | grep -E "Requests/sec|50%|90%|99%|Non-2xx|requests in")
  local n; n=$(awk '/requests in/ {print $1}' "$WORK/create.out")
  python3 - "$n" "$(cpu $pid)" "$srv0" "$(cpu $(pgrep -x postgres))" "$pg0" "$name" <<'PY'
import sys
n, srv1, srv0, pg1, pg0, name = int(sys.argv[1]), *map(float, sys.argv[2:6]), sys.argv[6]
print(f"-- CPU per create: server {1e6 * (srv1 - srv0) / n:.0f} µs"
      + (f", PostgreSQL processes {1e6 * (pg1 - pg0) / n:.0f} µs" if name == "postgres" else " (SQLite included)"))
PY
  echo "-- $(rss $pid) after the creates"
  kill -TERM $pid; wait $pid || true
}

echo "machine: $(nproc) cores, $(uname -r); wrk -t2 -c16 -d${DURATION}s; $SEED incidents seeded"
for b in ${BACKENDS:-sqlite postgres}; do
  case $b in
    sqlite) run sqlite --data-dir "$WORK/sqlite" ;;
    postgres) run postgres --database-url "$PG_URL" ;;
    *) echo "unknown backend $b" >&2; exit 2 ;;
  esac
done
