#!/usr/bin/env bash
# Property-based API test: schemathesis generates requests from docs/openapi.json (valid
# and invalid bodies, parameters, sequences of calls) against `custos demo`, once per
# role, and fails on any 5xx answer or any answer that does not match the document.
#
#   scripts/api-fuzz.sh [path/to/custos]     (default: target/debug/custos, built if missing)
#   EXAMPLES=30 scripts/api-fuzz.sh          (examples per operation; default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/custos}
[ -x "$BIN" ] || cargo build -q --bin custos
EXAMPLES=${EXAMPLES:-10}
VERSION=4.32.5
if ! python3 -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$VERSION')" 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check "schemathesis==$VERSION"
fi
WORK=$(mktemp -d)
PORT=18399
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" demo --data-dir "$WORK/data" --listen 127.0.0.1:$PORT >"$WORK/demo.log" 2>&1 &
for _ in $(seq 1 300); do
  curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz && break
  sleep 0.1
done
curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz || { cat "$WORK/demo.log"; exit 1; }

status=0
# Each role sees other operations (the rest answer 403, which is checked too). The admin
# goes last: its generated writes may disable users or revoke their tokens.
for who in sophie.security adam.agent carla.customer alex.admin; do
  token=$("$BIN" admin issue-token --email "$who@demo.custos.dev" --data-dir "$WORK/data" --name fuzz 2>/dev/null | tail -n 1)
  echo "-- $who"
  if ! python3 -m schemathesis.cli run docs/openapi.json \
    --url "http://127.0.0.1:$PORT/api/v1" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed 20261124 --workers 2 >"$WORK/$who.log" 2>&1; then
    status=1
    sed -n '/FAILURES\|ERRORS/,$p' "$WORK/$who.log"
  fi
  grep -E "generated|passed|failed" "$WORK/$who.log" | tail -n 2
done
exit $status
