#!/usr/bin/env bash
# `make load`: the release server on a fresh SQLite file (or LOAD_DATABASE_URL), then
# scripts/load.mjs with 1 and 8 workers, each followed by the raw one-row insert rate on
# the same database. Run `make build` first.
#   LOAD_SECONDS=6 scripts/load.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -x target/gapless ] || die "no target/gapless: run make build first"
seconds=${LOAD_SECONDS:-6}
port=${LOAD_PORT:-3219}
dir=$(mktemp -d)
url=${LOAD_DATABASE_URL:-sqlite://$dir/load.db}
export GAPLESS_RATE_IP_BURST=1000000 GAPLESS_RATE_IP_PER_SECOND=1000000
export GAPLESS_RATE_CHAT_BURST=1000000 GAPLESS_RATE_CHAT_PER_SECOND=1000000
DATABASE_URL=$url LEPTOS_SITE_ADDR=127.0.0.1:$port RUST_LOG=warn target/gapless serve &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
for workers in 1 8; do
  say "load: $workers worker(s), $seconds s"
  node scripts/load.mjs --base "http://127.0.0.1:$port" --workers "$workers" \
    --seconds "$seconds" --database-url "$url"
done
