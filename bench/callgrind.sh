#!/usr/bin/env bash
# Instructions per call of FrameRPC and of the raw SwiftNIO floor, client and
# server process each, counted by valgrind's callgrind. Instruction counts do
# not move with the machine's load (unlike calls/s), so they tell whether a
# change to the hot path paid even on a busy machine.
#
#   bench/callgrind.sh            # builds framerpc-bench in release first
#
# Each system runs twice, with CALLS_LOW and CALLS_HIGH calls (a fresh
# server and client under callgrind each time, `framerpc-bench serve` and
# `framerpc-bench client --calls N`); instructions per call are the
# difference of the totals divided by the difference of the calls, so
# process start, connection set-up and exit cancel out.
#
# Settings (environment): CALLS_LOW (default 1000), CALLS_HIGH (5000),
# CONCURRENCY (1: calls in flight on the one connection), PAYLOAD (100
# bytes), SYSTEMS ("raw framerpc"), SKIP_BUILD=1 to use the binary as built,
# KEEP=DIR to keep the callgrind output files there (for callgrind_annotate:
# <system>-<calls>.client.out and .server.out).
# Needs valgrind (Debian: apt-get install valgrind).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
low=${CALLS_LOW:-1000}
high=${CALLS_HIGH:-5000}
concurrency=${CONCURRENCY:-1}
payload=${PAYLOAD:-100}
systems=${SYSTEMS:-"raw framerpc"}

command -v valgrind >/dev/null || { echo "error: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ "$high" -gt "$low" ] || { echo "error: CALLS_HIGH must be above CALLS_LOW" >&2; exit 1; }
if [ -z "${SKIP_BUILD:-}" ]; then
  swift build -c release --package-path "$root" --product framerpc-bench >&2
fi
bin="$(swift build -c release --package-path "$root" --show-bin-path)/framerpc-bench"
[ -x "$bin" ] || { echo "error: $bin is not built" >&2; exit 1; }

work=$(mktemp -d)
# valgrind 3.19 (Debian 12) cannot read the DWARF 5 debug information Swift
# 6.3 writes ("unhandled dwarf2 abbrev form"): count on a copy without it
# (the symbol table stays, so callgrind_annotate still names functions).
cp "$bin" "$work/framerpc-bench"
strip --strip-debug "$work/framerpc-bench"
bin="$work/framerpc-bench"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/*.out "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The total instructions (Ir) of a callgrind output file.
total() {
  local value
  value=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$1" | head -1)
  [ -n "$value" ] || value=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$1" | head -1)
  [ -n "$value" ] || { echo "error: no total in $1" >&2; exit 1; }
  echo "$value"
}

# measure KIND CALLS: runs a server and a client under callgrind; prints
# "<client Ir> <server Ir>".
measure() {
  local kind=$1 calls=$2 tag="$1-$2" hold port
  mkfifo "$work/$tag.stdin"
  # The server exits when its standard input (the fifo, held open below)
  # reaches end of file; callgrind writes its counts at exit.
  valgrind --tool=callgrind --callgrind-out-file="$work/$tag.server.out" \
    "$bin" serve --kind "$kind" --exit-on-stdin-eof \
    <"$work/$tag.stdin" >"$work/$tag.port" 2>"$work/$tag.server.log" &
  server_pid=$!
  exec {hold}>"$work/$tag.stdin"
  for _ in $(seq 1 1200); do
    grep -q '^PORT ' "$work/$tag.port" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$tag.server.log" >&2; echo "error: $kind server died" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's/^PORT //p' "$work/$tag.port")
  [ -n "$port" ] || { echo "error: $kind server reported no port" >&2; exit 1; }
  if ! valgrind --tool=callgrind --callgrind-out-file="$work/$tag.client.out" \
    "$bin" client --kind "$kind" --port "$port" --calls "$calls" \
    --concurrency "$concurrency" --payload-size "$payload" \
    >"$work/$tag.client.txt" 2>"$work/$tag.client.log"; then
    cat "$work/$tag.client.log" "$work/$tag.client.txt" >&2
    echo "error: $kind client failed" >&2
    exit 1
  fi
  exec {hold}>&-
  wait "$server_pid" || true
  server_pid=
  grep -q "^calls $calls errors 0" "$work/$tag.client.txt" || { cat "$work/$tag.client.txt" >&2; echo "error: $kind client did not complete $calls calls" >&2; exit 1; }
  echo "$(total "$work/$tag.client.out") $(total "$work/$tag.server.out")"
}

echo "callgrind: instructions per call, ${payload}-byte unary echo, concurrency $concurrency, one connection on 127.0.0.1" >&2
echo "(totals of $low and $high calls, differenced; $(valgrind --version), $(uname -m))" >&2
declare -A client_per server_per
for kind in $systems; do
  echo "measuring $kind: $low calls..." >&2
  measure "$kind" "$low" >"$work/result"
  read -r c1 s1 <"$work/result"
  echo "measuring $kind: $high calls..." >&2
  measure "$kind" "$high" >"$work/result"
  read -r c2 s2 <"$work/result"
  client_per[$kind]=$(( (c2 - c1) / (high - low) ))
  server_per[$kind]=$(( (s2 - s1) / (high - low) ))
done

printf '\n| system | client instructions/call | server instructions/call | total |\n| --- | ---: | ---: | ---: |\n'
for kind in $systems; do
  printf '| %s | %d | %d | %d |\n' "$kind" "${client_per[$kind]}" "${server_per[$kind]}" $(( client_per[$kind] + server_per[$kind] ))
done
if [ -n "${client_per[raw]:-}" ] && [ -n "${client_per[framerpc]:-}" ]; then
  awk -v fc="${client_per[framerpc]}" -v fs="${server_per[framerpc]}" -v rc="${client_per[raw]}" -v rs="${server_per[raw]}" \
    'BEGIN { printf "\nFrameRPC/floor: client %.1fx, server %.1fx, total %.1fx\n", fc/rc, fs/rs, (fc+fs)/(rc+rs) }'
fi
