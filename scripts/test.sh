#!/usr/bin/env bash
# `make test`: the whole suite.
#   1. formatting;
#   2. Rust tests: domain unit and property tests, the store contract suite, black-box
#      HTTP and CLI tests, on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set;
#   3. the extractor eval on eval/utterances.jsonl, which fails below its floor;
#   4. the release build, its front-end size budget, and browser tests in chromium.
# `scripts/test.sh e2e` runs only step 4 against the last build.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
only=${1:-all}

choose_toolchain
if [ "$only" = all ]; then
  say "formatting"
  if command -v rustup >/dev/null; then
    rustup run stable cargo fmt --all -- --check
  else
    cargo fmt --all -- --check
  fi

  if [ -z "${TEST_DATABASE_URL:-}" ]; then
    say "TEST_DATABASE_URL is not set: the PostgreSQL runs are SKIPPED (SQLite runs as always)"
  else
    say "PostgreSQL runs against ${TEST_DATABASE_URL}"
  fi
  say "Rust tests"
  cargo test --locked -p gapless-domain -p gapless-api -p gapless-store -p server -p app \
    --features app/ssr

  # The floor only ever goes up: raise it when the extractor gets better.
  say "extractor eval on the labelled set (floor ${EVAL_FLOOR:=99} %)"
  cargo run --locked -q -p server --bin gapless -- eval eval/utterances.jsonl \
    --min-accuracy "$EVAL_FLOOR" --failures 10

  "$ROOT/scripts/build.sh" release
  # A second build with nothing changed must do nothing: no crate compiled or linked,
  # no wasm-bindgen or wasm-opt run (a warm `make run` is seconds, not minutes).
  say "building again: nothing may be rebuilt"
  again=$("$ROOT/scripts/build.sh" release 2>&1)
  if grep -E "Compiling|optimizing" <<<"$again"; then
    die "a second release build with nothing changed rebuilt the lines above"
  fi
fi

say "front-end size"
node scripts/compress.mjs target/site --report

say "browser tests (chromium)"
apt_install chromium
ensure_node_modules
npx playwright test --config end2end/playwright.config.mjs
