#!/usr/bin/env bash
# The whole system on PostgreSQL with replicas, on one machine, in one
# command: a throwaway PostgreSQL server (Debian's `postgresql` binaries,
# a cluster made by initdb in a temporary folder, 127.0.0.1 only, a random
# password), then `shop up --database-url URL --replicas N` on it. Ctrl-C
# stops shop up; the server and its folder go with it.
#
# Usage: deploy/postgres-up.sh [--replicas N] [--pg-port PORT] [any other shop up arguments]
#   --replicas N   processes per service (default 2)
#   --pg-port PORT the server's port (default 55432)
# SHOP_BIN names the shop binary (default: `swift run shop`).
# As root (a container, CI) initdb and the server run as the postgres
# account, which refuses to run them as root.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=2
pg_port=55432
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas="$2"; shift 2 ;;
    --pg-port) pg_port="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

newest=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
pg="/usr/lib/postgresql/$newest/bin"
[ -n "$newest" ] && [ -x "$pg/initdb" ] || {
  echo "error: PostgreSQL is not installed (sudo apt-get install postgresql)" >&2
  exit 1
}
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups); fi

dir=$(mktemp -d /tmp/shop-postgres-XXXXXX)
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pw"
if [ ${#as_postgres[@]} -gt 0 ]; then chown -R postgres:postgres "$dir"; fi
stop() {
  "${as_postgres[@]}" "$pg/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_postgres[@]}" "$pg/initdb" -D "$dir/data" -U shop --pwfile="$dir/pw" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# Every replica has a pool of its own: more than the default 100 connections.
"${as_postgres[@]}" "$pg/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400" start >/dev/null ||
  { tail -5 "$dir/log" >&2; exit 1; }
"${as_postgres[@]}" "$pg/createdb" -h "$dir" -p "$pg_port" -U shop shop
echo "PostgreSQL on 127.0.0.1:$pg_port (database shop, folder $dir, removed on exit)" >&2

url="postgres://shop:$password@127.0.0.1:$pg_port/shop"
if [ -n "${SHOP_BIN:-}" ]; then
  shop=("$SHOP_BIN")
else
  shop=(swift run shop)
fi
# Not exec: the trap stops the server once shop up has ended.
"${shop[@]}" up --database-url "$url" --replicas "$replicas" ${args[@]+"${args[@]}"} || status=$?
exit "${status:-0}"
