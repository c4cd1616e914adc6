#!/usr/bin/env bash
# Runs the Playwright suites against release servers started here: each on a fresh
# database of the development cluster (PostgreSQL 18, or PG_MAJOR's; or TEST_DATABASE_URL's
# server), a fresh data folder and a random admin password. Everything is removed afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:?usage: e2e.sh PATH-TO-holomush-admin}"
work="$(mktemp -d)"
server_pid=""
databases=()

# shellcheck source=scripts/pg-lib.sh
. "$ROOT/scripts/pg-lib.sh"
# PostgreSQL 18's psql and pg_dump / pg_restore (the server runs them from PATH) work against
# every server from 14 to 18; Debian's 15 refuse the development cluster, an 18.
PATH="$(pg_client_bin_dir):$PATH"
export PATH

base="${TEST_DATABASE_URL:-$("$ROOT/scripts/dev-postgres.sh" url)}"
export E2E_BASE_DB_URL="$base"
eval "$(python3 "$ROOT/scripts/pgenv.py" E2E_BASE_DB_URL postgres)"
export E2E_DB_PASSWORD="$PGPASSWORD"

stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
}
cleanup() {
  stop_server
  for db in "${databases[@]}"; do
    psql -qAt -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    # What the restores made of it: copies, moves, what a restore in place kept.
    for old in $(psql -qAt -c "SELECT datname FROM pg_database WHERE datname LIKE '${db}\\_%'" 2>/dev/null); do
      psql -qAt -c "DROP DATABASE IF EXISTS \"$old\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Creates a database and sets E2E_DATABASE and db_url to it.
new_database() {
  E2E_DATABASE="holomush_e2e_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export E2E_DATABASE
  databases+=("$E2E_DATABASE")
  psql -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$E2E_DATABASE\"" >/dev/null
  db_url="$(python3 -c 'import os,sys; from urllib.parse import urlsplit, urlunsplit; u=urlsplit(os.environ["E2E_BASE_DB_URL"]); print(urlunsplit(u._replace(path="/"+sys.argv[1])))' "$E2E_DATABASE")"
}

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export E2E_BASE_URL="http://127.0.0.1:$port"
export E2E_PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# start_server PASSWORD [NAME=VALUE…]: secrets reach the server through exported
# variables, never its command line.
start_server() {
  local password="$1"; shift
  # KEEP_DATA=1 restarts on the same data folder (jobs, sessions, audit log).
  if [ -z "${KEEP_DATA:-}" ]; then rm -rf "$work/data"; fi
  (cd "$work" && export DATABASE_URL="$db_url" HOLOMUSH_ADMIN_ADDR="127.0.0.1:$port" \
     HOLOMUSH_ADMIN_DATA="$work/data" HOLOMUSH_BACKUP_DIR="$work/backups" HOLOMUSH_ADMIN_PASSWORD="$password" && \
     for kv in "$@"; do export "$kv"; done && \
     exec "$BIN" serve >"$work/server.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 150); do
    if python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$E2E_BASE_URL/healthz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "The server did not start; its output:" >&2
  cat "$work/server.log" >&2
  exit 1
}

export E2E_WRONG_PASSWORD="wrong-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export E2E_DB_USER="$PGUSER" E2E_DB_HOST="$PGHOST" E2E_DB_PORT="$PGPORT"
check_no_secrets() {
  if grep -qF -f <(printf '%s\n' "$PGPASSWORD" "$E2E_PASSWORD" "$E2E_WRONG_PASSWORD") "$work/server.log" "$work/data/audit.log"; then
    echo "A password appeared in the server's output or the audit log." >&2
    exit 1
  fi
}

playwright() { (cd "$ROOT/end2end" && npx playwright test "$@"); }

# 1. Sign-in, the dashboard and the activity log, with a password.
new_database
export E2E_SERVER_VERSION="$(PGDATABASE="$E2E_DATABASE" psql -qAt -c 'SHOW server_version')"
start_server "$E2E_PASSWORD" HOLOMUSH_DB_AUTO_MIGRATE=false
playwright tests/foundation.spec.ts
check_no_secrets
stop_server

# 2. Without a password: the one-time link printed at start-up.
start_server "" HOLOMUSH_DB_AUTO_MIGRATE=false
export E2E_LOGIN_LINK="$(grep -o 'http://[^ ]*/login/link?token=[0-9a-f]*' "$work/server.log")"
playwright tests/one-time-link.spec.ts
check_no_secrets
stop_server

# 3. Migrations from the page, from a folder holding the embedded set plus one that fails.
new_database
mkdir -p "$work/migrations"
cp "$ROOT"/migrations/*.sql "$work/migrations/"
latest="$(ls "$work/migrations" | sed -n 's/^\([0-9]*\)_.*/\1/p' | sort -n | tail -n 1)"
export E2E_GOOD_LATEST="$((10#$latest))"
export E2E_BAD_VERSION="$((10#$latest + 1))"
printf 'CREATE TABLE e2e_ok (id int);\nSELECT * FROM no_such_table;\n' > "$work/migrations/$(printf '%06d' "$E2E_BAD_VERSION")_breaks.up.sql"
printf 'DROP TABLE IF EXISTS e2e_ok;\n' > "$work/migrations/$(printf '%06d' "$E2E_BAD_VERSION")_breaks.down.sql"
export E2E_MIGRATIONS_DIR="$work/migrations"
start_server "$E2E_PASSWORD" HOLOMUSH_DB_AUTO_MIGRATE=false HOLOMUSH_MIGRATIONS_DIR="$work/migrations"
playwright tests/migrations.spec.ts
check_no_secrets
stop_server

# 4. Auto-migrate on start-up with the embedded set.
new_database
start_server "$E2E_PASSWORD"
grep -q "^Migrations: no version → " "$work/server.log" || { echo "The console did not migrate on start-up:" >&2; cat "$work/server.log" >&2; exit 1; }
export E2E_EMBEDDED_LATEST="$(PGDATABASE="$E2E_DATABASE" psql -qAt -c 'SELECT version FROM schema_migrations')"
playwright tests/auto-migrate.spec.ts

# 5. Backups on the same, migrated database: back up, download, verify, restore into a new one.
databases+=("${E2E_DATABASE}_restored")
playwright tests/backups.spec.ts
if [ "$(psql -qAt -c "SELECT count(*) FROM pg_database WHERE datname = '${E2E_DATABASE}_restored'")" != 1 ]; then
  echo "The restore from the Backups page did not create ${E2E_DATABASE}_restored." >&2
  exit 1
fi
# The same with JavaScript off: every page reads, every form posts.
playwright tests/nojs.spec.ts
check_no_secrets
stop_server

# 6. A server killed during a backup: no complete-looking archive is left, pg_dump does not
#    run on, and after the restart the job shows as failed.
new_database
start_server "$E2E_PASSWORD" HOLOMUSH_BACKUP_DIR="$work/backups-kill"
# A lock pg_dump must wait for keeps the backup surely running when the server dies.
PGDATABASE="$E2E_DATABASE" PGAPPNAME=e2e-locker psql -qAt -c "BEGIN; LOCK TABLE players IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300);" >/dev/null 2>&1 &
locker=$!
waiting_dump() { psql -qAt -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$E2E_DATABASE' AND application_name = 'holomush-admin' AND wait_event_type = 'Lock'"; }
playwright tests/backup-kill.spec.ts -g "starts a backup"
for _ in $(seq 1 100); do [ "$(waiting_dump)" = 1 ] && break; sleep 0.2; done
[ "$(waiting_dump)" = 1 ] || { echo "pg_dump was not seen waiting mid-backup." >&2; exit 1; }
ls "$work/backups-kill"/${E2E_DATABASE}_*.partial >/dev/null || { echo "No partial archive while the backup ran." >&2; exit 1; }
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
psql -qAt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'e2e-locker'" >/dev/null
wait "$locker" 2>/dev/null || true
gone=""
for _ in $(seq 1 50); do
  if [ "$(psql -qAt -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$E2E_DATABASE' AND application_name = 'holomush-admin'")" = 0 ]; then gone=1; break; fi
  sleep 0.2
done
[ -n "$gone" ] || { echo "pg_dump ran on after the server was killed." >&2; exit 1; }
KEEP_DATA=1 start_server "$E2E_PASSWORD" HOLOMUSH_BACKUP_DIR="$work/backups-kill"
if ls "$work/backups-kill"/${E2E_DATABASE}_*.dump "$work/backups-kill"/${E2E_DATABASE}_*.partial 2>/dev/null | grep -q .; then
  echo "A killed backup left a file behind:" >&2; ls -l "$work/backups-kill" >&2; exit 1
fi
playwright tests/backup-kill.spec.ts -g "after the restart"
check_no_secrets
stop_server

# 7. Troubleshooting: a database made dirty by the CLI is repaired through the wizard;
#    the doctor on Settings with a wrong password (which must appear nowhere).
new_database
if DATABASE_URL="$db_url" HOLOMUSH_ADMIN_DATA="$work/cli-data" "$BIN" --migrations-dir "$work/migrations" migrate up >"$work/cli.log" 2>&1; then
  echo "migrate up should have failed on the breaking file:" >&2; cat "$work/cli.log" >&2; exit 1
fi
start_server "$E2E_PASSWORD" HOLOMUSH_DB_AUTO_MIGRATE=false HOLOMUSH_MIGRATIONS_DIR="$work/migrations" HOLOMUSH_BACKUP_DIR="$work/backups-repair"
playwright tests/troubleshooting.spec.ts
check_no_secrets
ls "$work/backups-repair"/*_safety_*.dump >/dev/null || { echo "The repair took no safety backup." >&2; exit 1; }
stop_server

# 8. The cutover to goose: a database migrated by golang-migrate (the embedded set) crosses
#    to goose through the Migrations page's adopt wizard, with the goose folder holding the
#    same versions plus one newer.
new_database
if ! DATABASE_URL="$db_url" HOLOMUSH_ADMIN_DATA="$work/cli-data" "$BIN" migrate up >"$work/cli.log" 2>&1; then
  echo "migrate up of the embedded set failed:" >&2; cat "$work/cli.log" >&2; exit 1
fi
mkdir -p "$work/goose"
versions="$(ls "$ROOT"/migrations/*.up.sql | sed -n 's|.*/\([0-9]*\)_.*|\1|p' | sort -n)"
for v in $versions; do
  printf -- '-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n' > "$work/goose/${v}_adopted.sql"
done
E2E_ADOPT_RECORDED="$(PGDATABASE="$E2E_DATABASE" psql -qAt -c 'SELECT version FROM schema_migrations')"
export E2E_ADOPT_RECORDED
newer="$(printf '%06d' "$((E2E_ADOPT_RECORDED + 1))")"
printf -- '-- +goose Up\nCREATE TABLE e2e_goose (id int);\n-- +goose Down\nDROP TABLE e2e_goose;\n' > "$work/goose/${newer}_after_adopt.sql"
E2E_ADOPT_SEED="0, $(for v in $versions; do echo $((10#$v)); done | paste -sd, - | sed 's/,/, /g')"
export E2E_ADOPT_SEED
start_server "$E2E_PASSWORD" HOLOMUSH_DB_AUTO_MIGRATE=false HOLOMUSH_MIGRATIONS_DIR="$work/goose" HOLOMUSH_BACKUP_DIR="$work/backups-adopt"
playwright tests/adopt.spec.ts
check_no_secrets
ls "$work/backups-adopt"/*_safety_*.dump >/dev/null || { echo "The adopt took no safety backup." >&2; exit 1; }
rows="$(PGDATABASE="$E2E_DATABASE" psql -qAt -c 'SELECT count(*) FROM goose_db_version')"
expected="$(( $(echo "$versions" | wc -l) + 1 ))"
[ "$rows" = "$expected" ] || { echo "goose_db_version has $rows rows, not $expected." >&2; exit 1; }
stop_server
