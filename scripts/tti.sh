#!/usr/bin/env bash
# `make tti`: time to interactive of the shop page and the returns portal, throttled like
# Lighthouse's mobile run (scripts/tti.mjs), against the release server on a fresh SQLite
# file with the demo catalog. Run `make build` first. TTI_RUNS (default 5) runs a page;
# TTI_SITE_ROOT and TTI_BINARY measure another build (e.g. a copy of an older one).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
binary=${TTI_BINARY:-target/gapless}
[ -x "$binary" ] || die "no $binary: run make build first"
apt_install chromium
ensure_node_modules
port=${TTI_PORT:-3227}
dir=$(mktemp -d)
DATABASE_URL="sqlite://$dir/tti.db" LEPTOS_SITE_ADDR=127.0.0.1:$port \
  LEPTOS_SITE_ROOT=${TTI_SITE_ROOT:-target/site} RUST_LOG=warn "$binary" serve &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
node scripts/tti.mjs --base "http://127.0.0.1:$port" --runs "${TTI_RUNS:-5}" "$@"
