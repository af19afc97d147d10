#!/usr/bin/env bash
# Benchmark: authenticated GET /api/v1/me with 16 connections (wrk, from outside the
# process), cold start to the first answered request, and server RSS after the run —
# on SQLite and on PostgreSQL. Prints figures; asserts nothing.
#
#   scripts/bench-me.sh [duration_seconds]     (default 20)
#   PG_URL=postgres://… scripts/bench-me.sh    (default: local PostgreSQL, database custos_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q
BIN=$PWD/target/release/custos
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18181
PW='correct horse battery staple'

if [ -z "${PG_URL:-}" ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS custos_bench" >/dev/null
  psql -h 127.0.0.1 -U postgres -d postgres -qAtc "CREATE DATABASE custos_bench" >/dev/null
  PG_URL=postgres://postgres@127.0.0.1:5432/custos_bench
fi

now_ms() { date +%s%3N; }

run() {
  local name=$1; shift
  local db=("$@")
  "$BIN" migrate "${db[@]}" >/dev/null 2>&1 || true
  echo "$PW" | "$BIN" admin create-user "${db[@]}" --email bench-$name@example.org --role agent >/dev/null
  local token; token=$("$BIN" admin issue-token "${db[@]}" --email bench-$name@example.org 2>/dev/null)
  local t0; t0=$(now_ms)
  "$BIN" serve "${db[@]}" --listen 127.0.0.1:$PORT >"$WORK/$name.log" 2>&1 &
  local pid=$!
  until curl -sf -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/api/v1/me; do sleep 0.002; done
  local t1; t1=$(now_ms)
  echo "== $name: cold start to first answered GET /api/v1/me: $((t1 - t0)) ms"
  wrk -t2 -c16 -d2s -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/api/v1/me >/dev/null  # warm-up
  wrk -t2 -c16 -d"${DURATION}s" --latency -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/api/v1/me \
    | grep -E "Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx"
  echo "server RSS after the run: $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
  kill -TERM $pid; wait $pid || true
}

echo "machine: $(nproc) cores, $(uname -r); wrk -t2 -c16 -d${DURATION}s"
echo "### default settings (API-token lookups cached for 1 s)"
run sqlite --data-dir "$WORK/sqlite"
run postgres --database-url "$PG_URL"
echo "### auth cache off (CUSTOS_AUTH_CACHE_TTL_MS=0): one database query per request"
export CUSTOS_AUTH_CACHE_TTL_MS=0
run sqlite-nocache --data-dir "$WORK/sqlite"
run postgres-nocache --database-url "$PG_URL"
