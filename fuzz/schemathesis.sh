#!/usr/bin/env bash
# The API fuzzer: starts `shop up` on free ports with a throwaway data
# folder, registers a user, logs in that user and the dev-mode admin, and
# runs schemathesis with every check against the gateway's /openapi.json,
# once with each token. Bounded in examples and time; exits non-zero on any
# failure. Per-operation exclusions, each with its reason, are in
# fuzz/schemathesis.toml.
#
#   fuzz/schemathesis.sh [SHOP_BINARY]
#
# SHOP_BINARY defaults to .build/debug/shop (built by `swift build`).
# FUZZ_MAX_EXAMPLES (default 20) and FUZZ_MAX_TIME (seconds per run,
# default 90) bound the work; FUZZ_SEED fixes the random seed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shop=${1:-$root/.build/debug/shop}
max_examples=${FUZZ_MAX_EXAMPLES:-20}
max_time=${FUZZ_MAX_TIME:-90}
seed=${FUZZ_SEED:-1}
command -v schemathesis >/dev/null 2>&1 || pip install -q schemathesis

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free gateway port and a free run of five service ports.
read -r port base < <(python3 - <<'PY'
import socket
def free(n):
    for start in range(20000, 60000, 7):
        socks = []
        try:
            for p in range(start, start + n):
                s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
            return start
        except OSError:
            pass
        finally:
            for s in socks: s.close()
import random
random.seed()
s = socket.socket(); s.bind(("127.0.0.1", 0)); gw = s.getsockname()[1]; s.close()
base = free(5)
while gw in range(base, base + 5): base = free(5)
print(gw, base)
PY
)
"$shop" up --data "$work/data" --port "$port" --base-port "$base" >"$work/shop.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  if grep -q "^shop *| ready:" "$work/shop.log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/shop.log" >&2; echo "shop up exited" >&2; exit 1; fi
  sleep 0.2
done
grep -q "^shop *| ready:" "$work/shop.log" || { cat "$work/shop.log" >&2; echo "shop up never became ready" >&2; exit 1; }
base_url=http://127.0.0.1:$port
echo "fuzz: shop up on $base_url (services from $base), data in $work"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# login EMAIL: an access token, waiting out the password routes' rate
# limit (429) that fuzzing them may have used up.
login() {
  local reply
  for _ in $(seq 1 60); do
    if reply=$(curl -sf -X POST "$base_url/api/auth/login" -H 'content-type: application/json' \
      -d "{\"email\":\"$1\",\"password\":\"$2\"}"); then
      json_field access_token <<<"$reply"
      return
    fi
    sleep 1
  done
  echo "fuzz: could not log in $1" >&2
  return 1
}
# register EMAIL: a new account, waiting out the rate limit likewise.
register() {
  for _ in $(seq 1 60); do
    curl -sf -X POST "$base_url/api/users/" -H 'content-type: application/json' \
      -d "{\"email\":\"$1\",\"full_name\":\"Fuzz User\",\"password\":\"correct horse battery\"}" >/dev/null && return
    sleep 1
  done
  echo "fuzz: could not register $1" >&2
  return 1
}
register fuzz@example.com
user_token=$(login fuzz@example.com "correct horse battery")
admin_token=$(login admin@shop.local dev-admin-password)

status=0
fuzz() {
  local who=$1 token=$2 seconds=$3; shift 3
  echo "fuzz: schemathesis as $who"
  (cd "$root/fuzz" && schemathesis run "$base_url/openapi.json" \
    --checks all \
    --max-examples "$max_examples" \
    --max-time "$seconds" \
    --seed "$seed" \
    --header "Authorization: Bearer $token" \
    --request-timeout 10 \
    --no-color \
    --report junit --report-dir "$work/report-${who// /-}" "$@") || status=1
}

# Changing or deactivating an account ends its tokens (a new password, role
# or deactivation raises its token version), after which every other
# operation would only see 401. So the account-changing operations are
# fuzzed last, each with a token of its own: a fresh user's, then the
# admin's.
account_ops=(--exclude-name "PUT /api/users/{id}" --exclude-name "DELETE /api/users/{id}")
only_account_ops=(--include-name "PUT /api/users/{id}" --include-name "DELETE /api/users/{id}")
fuzz "the user" "$user_token" "$max_time" "${account_ops[@]}"
fuzz "the admin" "$admin_token" "$max_time" "${account_ops[@]}"
register fuzz-account@example.com
account_token=$(login fuzz-account@example.com "correct horse battery")
fuzz "a user changing accounts" "$account_token" "$((max_time / 3))" "${only_account_ops[@]}"
fuzz "the admin changing accounts" "$admin_token" "$((max_time / 3))" "${only_account_ops[@]}"
if [[ $status -ne 0 ]]; then
  echo "fuzz: failures (shop's log tail follows)" >&2
  tail -n 40 "$work/shop.log" >&2
fi
exit $status
