#!/usr/bin/env bash
# Memory of the SQLite server under a long run of creates: seeds 100,000 incidents
# (`custos bench incidents`), serves them, posts creates with 16 connections for N
# seconds (wrk) and prints the server's RSS (anonymous / file-backed) every 10 s.
# Prints figures; asserts nothing.
#
#   scripts/bench-incidents-rss.sh [seconds]   (default 90)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q
BIN=$PWD/target/release/custos
DURATION=${1:-90}
W=$(mktemp -d); PORT=18190
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
out=$("$BIN" bench incidents --seed 100000 --data-dir "$W/d")
f() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$out" "$1"; }
token=$(f token); service=$(f service)
CUSTOS_CLOCK_INTERVAL_MS=0 "$BIN" serve --data-dir "$W/d" --listen 127.0.0.1:$PORT >"$W/log" 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz; do sleep 0.05; done
cat >"$W/c.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"VPN drops every few minutes","description":"Since this morning the VPN client disconnects every 3 to 5 minutes.","category":"network","impact":"medium","urgency":"high","service":"$service"}'
LUA
rss() { awk '/VmRSS/{r=$2} /VmHWM/{h=$2} /RssAnon/{a=$2} /RssFile/{f=$2} /RssShmem/{s=$2} END{printf "RSS %.1f MiB (anon %.1f, file %.1f, shmem %.1f) peak %.1f MiB", r/1024, a/1024, f/1024, s/1024, h/1024}' /proc/$pid/status; }
echo "start: $(rss)"
wrk -t2 -c16 -d"${DURATION}s" -s "$W/c.lua" -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/api/v1/incidents > "$W/wrk.txt" &
wp=$!
for i in $(seq 10 10 "$DURATION"); do sleep 10; echo "t=${i}s: $(rss)"; done
wait $wp
grep -E "Requests/sec|requests in" "$W/wrk.txt"
sleep 5; echo "after 5 s idle: $(rss)"
