#!/usr/bin/env bash
# Orders per second through the gateway on SQLite, and on PostgreSQL with
# one and with two processes per service, in one run with the same load
# (issue 14). Called by `bench/gateway-bench.sh --database-url URL`; runs on
# its own too.
#
# Usage: bench/replica-orders.sh --database-url URL [--bin DIR] [--duration SECONDS] [--connections N]
# URL is a PostgreSQL database the benchmark may write to (each run adds a
# user and a product; the schemas are created when missing), e.g. one of
# deploy/postgres-up.sh's kind. --bin DIR holds the shop binary (default
# .build/release). Needs wrk.
#
# Each configuration gets a fresh `shop up` (dev mode; its own ports), a
# product with plenty of stock and a user, then a 2 s warm-up and the
# measured wrk run of POST /api/orders/ with that user's token.
set -euo pipefail
cd "$(dirname "$0")/.."

database_url=""
bin=.build/release
duration=10
connections=32
while [ $# -gt 0 ]; do
  case "$1" in
    --database-url) database_url="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$database_url" ] || { echo "error: --database-url URL is required" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$bin/shop" ] || { echo "error: no shop binary in $bin (swift build -c release --product shop)" >&2; exit 1; }

work=$(mktemp -d)
gateway_port=${BENCH_REPLICA_GATEWAY_PORT:-28000}
base_port=${BENCH_REPLICA_BASE_PORT:-27001}
up_pid=""
stop_up() {
  if [ -n "$up_pid" ]; then
    kill -INT "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
    up_pid=""
  fi
}
trap 'stop_up; rm -rf "$work"' EXIT

base="http://127.0.0.1:$gateway_port"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
post() { curl -sf -X POST "$base$1" -H 'content-type: application/json' "${@:3}" -d "$2"; }

# measure NAME SHOP-UP-ARGUMENTS...: one configuration's orders/s.
measure() {
  local name=$1; shift
  "$bin/shop" up --port "$gateway_port" --base-port "$base_port" "$@" >"$work/$name.up.log" 2>&1 &
  up_pid=$!
  for _ in $(seq 1 900); do
    grep -q '| ready: ' "$work/$name.up.log" && break
    kill -0 "$up_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '| ready: ' "$work/$name.up.log" || { echo "error: shop up ($name) did not become ready:" >&2; tail -20 "$work/$name.up.log" >&2; exit 1; }
  local admin product email token
  admin=$(post /api/auth/login '{"email":"admin@shop.local","password":"dev-admin-password"}' | field access_token)
  product=$(post /api/products/ '{"name":"Teapot","description":"Short and stout","price":19.99,"category":"kitchen"}' -H "authorization: Bearer $admin" | field id)
  curl -sf -X PUT "$base/api/inventory/$product" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
    -d '{"available":100000000}' >/dev/null
  email="bench-$name-$(date +%s%N)@example.com"
  post /api/users/ "{\"email\":\"$email\",\"full_name\":\"Bench\",\"password\":\"correct horse battery\"}" >/dev/null
  token=$(post /api/auth/login "{\"email\":\"$email\",\"password\":\"correct horse battery\"}" | field access_token)
  cat >"$work/$name.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"items":[{"product_id":"$product","quantity":1}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF
  wrk -t2 -c"$connections" -d2s -s "$work/$name.lua" "$base/api/orders/" >/dev/null
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/$name.lua" "$base/api/orders/" >"$work/$name.txt"
  stop_up
}

measure sqlite1 --data "$work/sqlite"
measure postgres1 --data "$work/pg1" --database-url "$database_url" --replicas 1
measure postgres2 --data "$work/pg2" --database-url "$database_url" --replicas 2

python3 - "$work" "$duration" "$connections" <<'EOF'
import re, sys
work, duration, connections = sys.argv[1], sys.argv[2], sys.argv[3]
def parse(name):
    text = open(f"{work}/{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    failures = (int(errors.group(1)) if errors else 0) + (sum(int(n) for n in socket.groups()) if socket else 0)
    return rps, float(p99.group(1)) * scale, failures
rows = [("SQLite", 1, "sqlite1"), ("PostgreSQL", 1, "postgres1"), ("PostgreSQL", 2, "postgres2")]
results = {name: parse(name) for _, _, name in rows}
sqlite = results["sqlite1"][0]
print()
print(f"orders: POST /api/orders/ via gateway, {connections} connections, {duration} s each")
print("| storage | processes per service | orders/s | x SQLite | p99 ms | errors |")
print("| --- | --- | --- | --- | --- | --- |")
for storage, replicas, name in rows:
    rps, p99, failures = results[name]
    print(f"| {storage} | {replicas} | {rps:,.0f} | {rps / sqlite:.2f} | {p99:.1f} | {failures} |")
one, two = results["postgres1"][0], results["postgres2"][0]
print(f"two processes per service on PostgreSQL: {two / one:.2f} x one")
EOF
