#!/usr/bin/env bash
# Builds the server binary and the browser bundle into target/site.
#   scripts/build.sh [release|dev]     (default: release)
# Replaces cargo-leptos with the few steps it would run, so that a fresh machine needs
# no 19-minute cargo-leptos install: cargo (server), cargo (wasm), wasm-bindgen, wasm-opt.
source "$(dirname "$0")/lib.sh"
mode=${1:-release}
case "$mode" in
  release) server_profile=release; wasm_profile=wasm-release; server_dir=release ;;
  dev) server_profile=dev; wasm_profile=dev; server_dir=debug ;;
  *) die "usage: scripts/build.sh [release|dev]" ;;
esac

choose_toolchain
ensure_wasm_bindgen
ensure_node_modules
cd "$ROOT"

# Three bundles, one crate each so that each links to a file of its own: the shop's
# (`frontend`: shop page and chat widget), the returns portal's (`frontend-returns`: the
# shop with the portal, served on /returns pages) and the staff console's
# (`frontend-staff`: everything, served on /staff pages). One cargo call per bundle (one
# call would unify app's features into all three), sharing every dependency; with
# nothing changed none links. `crate:output name` each:
bundles=(frontend:gapless frontend_returns:gapless_returns frontend_staff:gapless_staff)
say "building the browser bundles ($wasm_profile)"
wasm_dir=$([ "$wasm_profile" = dev ] && echo debug || echo "$wasm_profile")
target=${CARGO_TARGET_DIR:-target}
site=$target/site
out="$target/$WASM_TARGET/$wasm_dir"
for bundle in "${bundles[@]}"; do
  crate=${bundle%%:*}
  cargo build --profile "$wasm_profile" -p "${crate//_/-}" --lib --target "$WASM_TARGET" "${WASM_BUILD_STD[@]}"
done

stamp="$target/site-$mode.stamp"
# wasm-bindgen and wasm-opt take ~40 s a bundle: skip them when nothing they read has
# changed.
up_to_date=$([ -f "$stamp" ] && [ -z "$(find style public -newer "$stamp" 2>/dev/null)" ] && echo yes || echo no)
for bundle in "${bundles[@]}"; do
  if [ ! -f "$site/pkg/${bundle#*:}_bg.wasm" ] || [ ! "$stamp" -nt "$out/${bundle%%:*}.wasm" ]; then
    up_to_date=no
  fi
done
if [ "$up_to_date" = yes ]; then
  say "browser bundles are up to date"
else
  staging=$(mktemp -d "$target/site.XXXXXX")
  mkdir -p "$staging/pkg"
  cp -R public/. "$staging/"
  for bundle in "${bundles[@]}"; do
    wasm_in="$out/${bundle%%:*}.wasm"
    name=${bundle#*:}
    wasm-bindgen "$wasm_in" --target web --no-typescript --out-dir "$staging/pkg" --out-name "$name"
    if [ "$mode" = release ]; then
      say "optimizing the $name wasm (wasm-opt -Oz)"
      wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        -o "$staging/pkg/${name}_bg.wasm" "$staging/pkg/${name}_bg.wasm"
    fi
  done
  cat style/*.css > "$staging/pkg/gapless.css"
  # Precompressed copies: the server sends .br/.gz when the browser accepts them.
  node scripts/compress.mjs "$staging"
  rm -rf "$site" "$target"/site-*.stamp && mv "$staging" "$site" && touch "$stamp"
fi

say "building the server ($server_profile)"
cargo build --profile "$server_profile" -p server --bin gapless
ln -sf "$server_dir/gapless" "$target/gapless"
say "built $target/gapless and $site"
