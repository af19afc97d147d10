#!/usr/bin/env bash
# A/B benchmark of incident creates: two builds of custos on fresh copies of one seeded
# database, alternating, so that the machine's drift hits both alike. Prints figures;
# asserts nothing.
#
#   scripts/bench-creates-ab.sh BIN_A BIN_B [runs] [seconds]      (default 3 runs of 10 s)
#   BACKEND=postgres scripts/bench-creates-ab.sh …                (default sqlite)
#
# Each run: serve the copy, `wrk -t2 -c16` POSTs the same P2 incident as
# scripts/bench-incidents.sh (recognition, SLA clock, audit, search index, durable commit).
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1"); B=$(realpath "$2"); RUNS=${3:-3}; SECS=${4:-10}
BACKEND=${BACKEND:-sqlite}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
WORK=$(mktemp -d)
PORT=18183
PSQL="psql -h 127.0.0.1 -U postgres -d postgres -qAt"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

if [ "$BACKEND" = postgres ]; then
  $PSQL -c "DROP DATABASE IF EXISTS custos_ab_seed" >/dev/null
  $PSQL -c "CREATE DATABASE custos_ab_seed" >/dev/null
  seed=$("$A" bench incidents --seed 100000 --database-url postgres://postgres@127.0.0.1:5432/custos_ab_seed)
else
  seed=$("$A" bench incidents --seed 100000 --data-dir "$WORK/seed")
fi
token=$(field "$seed" token); service=$(field "$seed" service)
cat >"$WORK/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"VPN drops every few minutes","description":"Since this morning the VPN client disconnects every 3 to 5 minutes.","category":"network","impact":"medium","urgency":"high","service":"$service"}'
LUA

one() {
  local bin=$1 db
  if [ "$BACKEND" = postgres ]; then
    $PSQL -c "DROP DATABASE IF EXISTS custos_ab_run" >/dev/null
    $PSQL -c "CREATE DATABASE custos_ab_run TEMPLATE custos_ab_seed" >/dev/null
    db=(--database-url postgres://postgres@127.0.0.1:5432/custos_ab_run)
  else
    rm -rf "$WORK/run"; cp -r "$WORK/seed" "$WORK/run"
    db=(--data-dir "$WORK/run")
  fi
  CUSTOS_CLOCK_INTERVAL_MS=0 "$bin" serve "${db[@]}" --listen 127.0.0.1:$PORT >"$WORK/serve.log" 2>&1 &
  local pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
  sleep 1
  wrk -t2 -c16 -d"${SECS}s" --latency -s "$WORK/create.lua" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$PORT/api/v1/incidents" \
    | awk '/ 50%/{p50=$2} / 99%/{p99=$2} /Non-2xx/{bad=$NF} /Requests\/sec/{rps=$2} END{printf "%s req/s, p50 %s, p99 %s%s\n", rps, p50, p99, bad ? ", non-2xx " bad : ""}'
  kill -TERM $pid; wait $pid || true
}

echo "machine: $(nproc) cores, $(uname -r); $BACKEND; wrk -t2 -c16 -d${SECS}s creates; A=$A B=$B"
for r in $(seq "$RUNS"); do
  echo "run $r  A: $(one "$A")"
  echo "run $r  B: $(one "$B")"
done
