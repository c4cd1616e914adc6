#!/usr/bin/env bash
# Writes brotli (.br) and gzip (.gz) copies of the web assets beside them, so the server
# sends the wasm and its JavaScript compressed without compressing on every request.
# Only files newer than their copies are compressed again. Usage: precompress.sh PKG_DIR
set -euo pipefail
dir="${1:?usage: precompress.sh PKG_DIR}"
for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
  [ -f "$f" ] || continue
  if [ ! -f "$f.br" ] || [ "$f" -nt "$f.br" ]; then
    brotli --force --quality=11 --output="$f.br.tmp" "$f" && mv -f "$f.br.tmp" "$f.br"
  fi
  if [ ! -f "$f.gz" ] || [ "$f" -nt "$f.gz" ]; then
    gzip -9 --no-name --stdout "$f" > "$f.gz.tmp" && mv -f "$f.gz.tmp" "$f.gz"
  fi
done
