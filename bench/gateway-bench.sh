#!/usr/bin/env bash
# The gateway benchmark: one run, three measurements at the same concurrency
# on 127.0.0.1, so their ratios mean something on any machine:
#
#   floor   GET /api/products/{id} from a bare Hummingbird route (the product
#           JSON held in memory: gateway-bench-floor)
#   get     GET /api/products/{id} through the gateway (auth check, RPC to the
#           product service, SQLite read, JSON transcoding)
#   order   POST /api/orders/ through the gateway with a token (user, product,
#           inventory calls, SQLite writes in three services, outbox)
#   burst   GET /api/products/{id} from 1,000 and then 2,000 connections at
#           once for 6 s (bench/burst.py): successful requests/s, the share
#           shed (429/503), p99 of the successful responses, and the
#           gateway's RSS before the burst and 10 s after it (issue 17:
#           no timeouts, every shed response with Retry-After, RSS back
#           within 20 MB)
#
# Usage: bench/gateway-bench.sh [--duration SECONDS] [--connections N] [--no-burst] [--bin DIR] [--json]
# --bin DIR uses the shop and gateway-bench-floor binaries already in DIR
# (e.g. .build/debug) instead of building release ones.
# Needs wrk (Debian: apt-get install wrk); builds the release binaries itself.
# Targets (issue 5): get >= 0.30 x floor requests/s, order >= 0.10 x floor,
# no errors.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=32
json=0
burst=1
bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --json) json=1; shift ;;
    --no-burst) burst=0; shift ;;
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

if [ -z "$bin" ]; then
  scratch=.build-bench
  echo "building release binaries into $scratch ..." >&2
  swift build -c release --scratch-path "$scratch" --product shop >&2
  swift build -c release --scratch-path "$scratch" --product gateway-bench-floor >&2
  bin="$scratch/release"
fi

work=$(mktemp -d)
gateway_port=18000
base_port=17001
floor_port=18080
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The burst needs a descriptor per connection in the gateway (inherited from here).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The load comes from one address; the per-address connection cap would
# refuse most of a burst before the behaviour under test is reached.
export SHOP_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS=100000
# A key of our own (not dev mode's), so that a second gateway can share it.
export SHOP_SIGNING_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
"$bin/shop" up --data "$work/data" --port "$gateway_port" --base-port "$base_port" >"$work/up.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  grep -q '| ready: ' "$work/up.log" && break
  sleep 0.1
done
grep -q '| ready: ' "$work/up.log" || { echo "error: shop up did not become ready:" >&2; tail -20 "$work/up.log" >&2; exit 1; }

base="http://127.0.0.1:$gateway_port"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
post() { curl -sf -X POST "$base$1" -H 'content-type: application/json' "${@:3}" -d "$2"; }

admin=$(post /api/auth/login '{"email":"admin@shop.local","password":"dev-admin-password"}' | field access_token)
product_json=$(post /api/products/ '{"name":"Teapot","description":"Short and stout","price":19.99,"category":"kitchen"}' -H "authorization: Bearer $admin")
product=$(echo "$product_json" | field id)
curl -sf -X PUT "$base/api/inventory/$product" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"available":100000000}' >/dev/null
post /api/users/ '{"email":"bench@example.com","full_name":"Bench","password":"correct horse battery"}' >/dev/null
token=$(post /api/auth/login '{"email":"bench@example.com","password":"correct horse battery"}' | field access_token)

"$bin/gateway-bench-floor" --port "$floor_port" --json "$(curl -sf "$base/api/products/$product")" >"$work/floor.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -qs "^ready" "$work/floor.log" && break; sleep 0.1; done

cat >"$work/order.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"items":[{"product_id":"$product","quantity":1}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
EOF

# A second gateway in front of the same services, serving HTTPS (HTTP/1.1
# to wrk) with the development certificate: the cost of TLS at the edge.
https_port=$((gateway_port + 10))
certs="$work/data/certs"
env SHOP_TLS_CERT="$certs/gateway.pem" SHOP_TLS_KEY="$certs/gateway.key" SHOP_TLS_CA="$certs/ca.pem" \
  SHOP_GATEWAY_TLS_CERT="$certs/gateway.pem" SHOP_GATEWAY_TLS_KEY="$certs/gateway.key" \
  SHOP_GATEWAY_PORT="$https_port" SHOP_USER_ADDR="127.0.0.1:$base_port" SHOP_PRODUCT_ADDR="127.0.0.1:$((base_port + 1))" \
  SHOP_INVENTORY_ADDR="127.0.0.1:$((base_port + 2))" SHOP_ORDER_ADDR="127.0.0.1:$((base_port + 3))" \
  SHOP_NOTIFICATION_ADDR="127.0.0.1:$((base_port + 4))" "$bin/shop" gateway >"$work/https.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -qs "^ready" "$work/https.log" && break; sleep 0.1; done
grep -qs "^ready" "$work/https.log" || { echo "error: the HTTPS gateway did not start:" >&2; tail -5 "$work/https.log" >&2; exit 1; }

run() {
  local name=$1; shift
  # A short warm-up, then the measured run.
  wrk -t2 -c"$connections" -d2s "$@" >/dev/null
  wrk -t2 -c"$connections" -d"${duration}s" --latency "$@" >"$work/$name.txt"
}
run floor "http://127.0.0.1:$floor_port/api/products/$product"
run get "$base/api/products/$product"
run get_https "https://localhost:$https_port/api/products/$product"
run order -s "$work/order.lua" "$base/api/orders/"

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
if [ "$burst" = 1 ]; then
  gateway_pid=$(grep -o 'starting gateway (pid [0-9]*' "$work/up.log" | tail -1 | grep -o '[0-9]*$')
  for size in 1000 2000; do
    before=$(rss_mb "$gateway_pid")
    python3 bench/burst.py "$base/api/products/$product" --connections "$size" --duration 6 >"$work/burst-$size.json"
    sleep 10
    after=$(rss_mb "$gateway_pid")
    python3 - "$work/burst-$size.json" "$before" "$after" <<'PY'
import json, sys
path, before, after = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
result = json.load(open(path))
result.update({"rss_before_mb": before, "rss_after_mb": after})
json.dump(result, open(path, "w"))
PY
  done
fi

python3 - "$work" "$duration" "$connections" "$json" <<'EOF'
import json, re, sys
work, duration, connections, as_json = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

def micros(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]

def parse(name):
    text = open(f"{work}/{name}.txt").read()
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    errors = 0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if match: errors += int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match: errors += sum(int(g) for g in match.groups())
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_us": micros(re.search(r"50%\s+(\S+)", text).group(1)),
        "p99_us": micros(re.search(r"99%\s+(\S+)", text).group(1)),
        "requests": requests,
        "errors": errors,
    }

results = {name: parse(name) for name in ("floor", "get", "get_https", "order")}
import os
bursts = {}
for size in (1000, 2000):
    path = f"{work}/burst-{size}.json"
    if os.path.exists(path):
        bursts[size] = json.load(open(path))
floor = results["floor"]["requests_per_second"]
ratios = {"get": results["get"]["requests_per_second"] / floor, "order": results["order"]["requests_per_second"] / floor}
targets = {"get": 0.30, "order": 0.10}
met = {name: ratios[name] >= targets[name] and results[name]["errors"] == 0 for name in targets}
if as_json:
    print(json.dumps({"connections": int(connections), "duration_s": int(duration), "results": results,
                      "ratio_to_floor": ratios, "targets": targets, "met": met,
                      "bursts": {str(size): burst for size, burst in bursts.items()}}, indent=2))
else:
    print(f"{connections} connections, {duration} s each, 127.0.0.1")
    print(f"| path | requests/s | p50 µs | p99 µs | errors | x floor |")
    print(f"| --- | --- | --- | --- | --- | --- |")
    labels = {"floor": "bare Hummingbird floor", "get": "GET /api/products/{id} via gateway", "get_https": "the same over HTTPS (TLS 1.3, HTTP/1.1)", "order": "POST /api/orders/ via gateway"}
    for name, label in labels.items():
        r = results[name]
        ratio = r["requests_per_second"] / floor
        print(f"| {label} | {r['requests_per_second']:,.0f} | {r['p50_us']:,.0f} | {r['p99_us']:,.0f} | {r['errors']} | {ratio:.2f} |")
    print(f"HTTPS costs: {results['get_https']['requests_per_second'] / results['get']['requests_per_second']:.2f} x plain HTTP's requests/s")
    for name in targets:
        print(f"target {name}: {ratios[name]:.2f} x floor (target {targets[name]:.2f}, no errors): {'met' if met[name] else 'MISSED'}")
    if bursts:
        print()
        print("burst: GET /api/products/{id} via gateway, 6 s; RSS 10 s after")
        print("| connections | successes/s | shed share | p99 of successes ms | timeouts | shed without Retry-After | other statuses | RSS before MB | RSS after MB |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for size, b in bursts.items():
            other = {code: n for code, n in b["status"].items() if code not in ("200", "429", "503")}
            print(f"| {size} | {b['successes_per_second']:,.0f} | {b['shed_share']:.1%} | {b['p99_success_ms']} | {b['timeouts']} | "
                  f"{b['shed_without_retry_after']} | {other or 'none'} | {b['rss_before_mb']} | {b['rss_after_mb']} |")
        for size, b in bursts.items():
            grown = b["rss_after_mb"] - b["rss_before_mb"]
            ok = b["timeouts"] == 0 and b["shed_without_retry_after"] == 0 and grown <= 20
            print(f"target burst {size}: no timeouts, Retry-After on every shed response, RSS within 20 MB (+{grown:.1f} MB): {'met' if ok else 'MISSED'}")
EOF
