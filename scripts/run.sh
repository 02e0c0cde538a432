#!/usr/bin/env bash
# `make run`: installs what is missing, builds the release, starts the shop.
# DATABASE_URL, LEPTOS_SITE_ADDR and the other settings in the README are honoured.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/build.sh" release
cd "$ROOT"
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$ROOT/target/site}
say "starting gapless at http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops it)"
exec "$ROOT/target/gapless" serve
