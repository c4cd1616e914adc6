#!/usr/bin/env bash
# `make unit`: the Rust tests (cargo test -p ops -p server) once per PostgreSQL major in
# PG_MATRIX (default "14 15 16 17 18"; any subset, e.g. PG_MATRIX=18 for quick work).
#
# It starts the development cluster of every major in the matrix (scripts/dev-postgres.sh
# with PG_MAJOR; each on its own free port), exports TEST_DATABASE_URL_<major> for each of
# them to every run (so a test can, say, restore a dump of the 14 server into the 18 one),
# then runs the tests once per major with TEST_DATABASE_URL set to that major's URL and
# TEST_PG_MAJOR=<major> (and TEST_SUPERUSER_URL, that cluster's superuser). At the end (also on failure or Ctrl-C) it stops the clusters it
# started; it fails when any run failed and prints how long each major took.
#
# With TEST_DATABASE_URL set by the caller, that server alone is used, in one run.
# Extra arguments go to every `cargo test` (e.g. a test name filter).
# TEST_MATRIX_CMD replaces `cargo test -p ops -p server` (run with bash -c; no compile step
# first): for checking this script itself.
#
# The URLs hold passwords: they travel in the environment only, never a command line or
# the output.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/pg-lib.sh
. "$HERE/pg-lib.sh"
MATRIX="${PG_MATRIX:-$PG_MAJORS_ALL}"

# pg_dump / pg_restore / psql of PostgreSQL 18 handle every server of the matrix; older ones
# refuse newer servers.
PATH="$(pg_client_bin_dir):$PATH"
export PATH

now() { date +%s.%N; }
since() { LC_ALL=C awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
header() { printf '\n===== %s =====\n' "$*"; }

run_tests() {
  if [ -n "${TEST_MATRIX_CMD:-}" ]; then
    bash -c "$TEST_MATRIX_CMD" test-matrix "$@"
  else
    cargo test -p ops -p server "$@"
  fi
}

if [ -z "${TEST_MATRIX_CMD:-}" ]; then
  t0="$(now)"
  header "compiling the tests (cargo test -p ops -p server --no-run)"
  cargo test -p ops -p server --no-run
  printf 'compiled in %s\n' "$(since "$t0")"
fi

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  header "TEST_DATABASE_URL (the caller's server; PG_MATRIX is not used)"
  t0="$(now)"
  run_tests "$@"
  printf 'passed in %s\n' "$(since "$t0")"
  exit 0
fi

majors=()
for m in $MATRIX; do
  pg_known_major "$m" || { printf 'PG_MATRIX: %s is not one of %s.\n' "$m" "$PG_MAJORS_ALL" >&2; exit 2; }
  case " ${majors[*]} " in *" $m "*) ;; *) majors+=("$m") ;; esac
done
[ "${#majors[@]}" -gt 0 ] || { echo "PG_MATRIX is empty." >&2; exit 2; }

started=()
stop_started() {
  local m
  for m in "${started[@]}"; do PG_MAJOR="$m" bash "$HERE/dev-postgres.sh" stop || true; done
  started=()
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

header "PostgreSQL clusters for majors ${majors[*]}"
for m in "${majors[@]}"; do
  t0="$(now)"
  if ! PG_MAJOR="$m" bash "$HERE/dev-postgres.sh" status; then started+=("$m"); fi
  url="$(PG_MAJOR="$m" bash "$HERE/dev-postgres.sh" url)"
  export "TEST_DATABASE_URL_$m=$url"
  # The archive-boundary tests also run a console whose role is the superuser.
  export "TEST_SUPERUSER_URL_$m=$(PG_MAJOR="$m" bash "$HERE/dev-postgres.sh" superurl)"
  printf 'PostgreSQL %s: postgres://holomush:****@%s (TEST_DATABASE_URL_%s), ready in %s\n' \
    "$m" "${url##*@}" "$m" "$(since "$t0")"
done
unset url

failed=()
times=()
for m in "${majors[@]}"; do
  header "PostgreSQL $m: cargo test -p ops -p server (TEST_DATABASE_URL=\$TEST_DATABASE_URL_$m, TEST_PG_MAJOR=$m)"
  var="TEST_DATABASE_URL_$m"
  t0="$(now)"
  svar="TEST_SUPERUSER_URL_$m"
  if TEST_DATABASE_URL="${!var}" TEST_SUPERUSER_URL="${!svar}" TEST_PG_MAJOR="$m" run_tests "$@"; then
    times+=("PostgreSQL $m: passed in $(since "$t0")")
  else
    failed+=("$m")
    times+=("PostgreSQL $m: FAILED in $(since "$t0")")
  fi
done

header "summary"
printf '%s\n' "${times[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'The tests failed against PostgreSQL %s.\n' "${failed[*]}" >&2
  exit 1
fi
