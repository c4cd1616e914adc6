#!/usr/bin/env bash
# Writes brotli (.br) and gzip (.gz) copies of the web assets beside them, so the server
# sends the wasm and its JavaScript compressed without compressing on every request.
# Only files newer than their copies are compressed again. With HASH_FILE (cargo-leptos's
# hash.txt), assets of earlier builds (other hashes) are removed, so pkg/ does not grow.
# Usage: precompress.sh PKG_DIR [HASH_FILE]
set -euo pipefail
dir="${1:?usage: precompress.sh PKG_DIR [HASH_FILE]}"
hash_file="${2:-}"
if [ -n "$hash_file" ] && [ -f "$hash_file" ]; then
  keep=()
  while IFS=: read -r key value; do
    value="${value// /}"
    case "$key" in js|wasm|css) keep+=("holomush-admin.$value.$key") ;; esac
  done < "$hash_file"
  for f in "$dir"/holomush-admin.*; do
    [ -f "$f" ] || continue
    base="$(basename "$f")"
    base="${base%.br}"; base="${base%.gz}"
    case "$base" in *.js|*.wasm|*.css) ;; *) continue ;; esac
    current=no
    for k in "${keep[@]}"; do [ "$base" = "$k" ] && current=yes; done
    [ "$current" = yes ] || rm -f "$f"
  done
fi
for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
  [ -f "$f" ] || continue
  if [ ! -f "$f.br" ] || [ "$f" -nt "$f.br" ]; then
    brotli --force --quality=11 --output="$f.br.tmp" "$f" && mv -f "$f.br.tmp" "$f.br"
  fi
  if [ ! -f "$f.gz" ] || [ "$f" -nt "$f.gz" ]; then
    gzip -9 --no-name --stdout "$f" > "$f.gz.tmp" && mv -f "$f.gz.tmp" "$f.gz"
  fi
done
