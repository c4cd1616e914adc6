#!/usr/bin/env bash
# Installs, only when missing, everything `make run` / `make test` need on a fresh
# Debian 12 machine that reaches crates.io, npm, PyPI and Debian but nothing else.
# Every step checks first, so a second run costs a few seconds.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen` pin in Cargo.toml
BINARYEN_VERSION=132.0.0       # Debian's binaryen 108 breaks hydration in release builds
TOOLS_DIR="${HOLOMUSH_TOOLS_DIR:-$HOME/.cache/holomush-admin/tools}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
say() { printf '==> %s\n' "$*"; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v brotli >/dev/null 2>&1 || apt_packages+=(brotli)
[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_packages+=(postgresql-15)
command -v pg_dump >/dev/null 2>&1 || apt_packages+=(postgresql-client-15)
[ -f /usr/share/postgresql/15/extension/pg_trgm.control ] || apt_packages+=(postgresql-contrib)
if [ "${#apt_packages[@]}" -gt 0 ]; then
  say "installing Debian packages: ${apt_packages[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

# PostgreSQL 14, 16, 17 (test servers) and 18 (server and client tools); 15 is Debian's, above.
bash "$ROOT/scripts/install-postgres.sh"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo-leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  # cargo-leptos' locked dependency set needs a newer rustc than stable here; nightly builds it.
  toolchain=+stable
  if ! rustc --version | awk '{split($2,v,"."); exit !(v[1]>1 || v[2]>=96)}'; then
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    toolchain=+nightly
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION with cargo $toolchain (about 20 minutes on 2 cores)"
  cargo "$toolchain" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: the published lock file names a yanked crate.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi

if [ -f "$ROOT/end2end/package-lock.json" ]; then
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || \
     [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing the end-to-end test packages (Playwright, driving Debian's Chromium)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --silent)
  fi
fi
