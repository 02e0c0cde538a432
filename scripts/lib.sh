# Sourced by the other scripts: where the tools live and which Rust builds the wasm.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Installed tools outlive the clone, so a second run on the same machine skips them.
TOOLS=${GAPLESS_TOOLS_DIR:-$HOME/.cache/gapless-tools}
WASM_TARGET=wasm32-unknown-unknown
export PATH="$TOOLS/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# .cargo/config.toml builds everything with `--cfg erase_components`, which the server
# and the wasm must share; a RUSTFLAGS from the environment would replace it.
if [ -n "${RUSTFLAGS:-}" ] && [[ $RUSTFLAGS != *erase_components* ]]; then
  export RUSTFLAGS="$RUSTFLAGS --cfg erase_components"
fi

say() { printf '==> [%4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install it by hand, then run again)"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  say "installing ${missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Picks the Rust that builds the browser bundle and exports WASM_BUILD_STD (extra cargo
# args for the wasm build only). Prefers rustup's own wasm32 target, as on any ordinary
# machine; falls back to Debian's rustc-web, which builds std for wasm from source, where
# rustup cannot get the target (no internet). GAPLESS_WASM_TOOLCHAIN=rustup|debian forces it.
WASM_BUILD_STD=()
choose_toolchain() {
  local choice=${GAPLESS_WASM_TOOLCHAIN:-auto}
  if [ "$choice" = auto ]; then
    if command -v rustup >/dev/null && {
      rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET" ||
        timeout 300 rustup target add "$WASM_TARGET" >/dev/null 2>&1; }; then
      choice=rustup
    else
      choice=debian
    fi
  fi
  case "$choice" in
    rustup) ;;
    debian)
      # NOT Debian's binaryen: its wasm-opt 108 breaks hydration (BUILD.md).
      apt_install rustc-web cargo-web rust-web-src lld-22
      export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
      WASM_BUILD_STD=(-Zbuild-std=std,panic_abort)
      ;;
    *) die "GAPLESS_WASM_TOOLCHAIN must be rustup or debian, not $choice" ;;
  esac
  say "Rust for wasm: $choice ($(cargo --version))"
}

# wasm-bindgen's CLI must be exactly the version of the crate in Cargo.lock.
ensure_wasm_bindgen() {
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock")
  [ -n "$want" ] || die "no wasm-bindgen in Cargo.lock"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    say "installing wasm-bindgen-cli $want into $TOOLS (about 3 minutes, once)"
    # Without --locked: its lock file names a webpki-roots the registry no longer has.
    cargo install wasm-bindgen-cli --version "$want" --root "$TOOLS" --quiet
  fi
}

# Node packages: wasm-opt (binaryen, for release builds) and Playwright (for tests).
ensure_node_modules() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x "$ROOT/node_modules/.bin/wasm-opt" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "installing node packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
