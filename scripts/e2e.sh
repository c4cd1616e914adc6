#!/usr/bin/env bash
# Runs the Playwright suite against a release server started here: a fresh database
# on the development cluster (or TEST_DATABASE_URL's server), a fresh data folder,
# a random admin password. Everything is removed afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:?usage: e2e.sh PATH-TO-holomush-admin}"
work="$(mktemp -d)"
server_pid=""

base="${TEST_DATABASE_URL:-$("$ROOT/scripts/dev-postgres.sh" url)}"
export E2E_BASE_DB_URL="$base"
db="holomush_e2e_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
eval "$(python3 "$ROOT/scripts/pgenv.py" E2E_BASE_DB_URL postgres)"

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql -qAt -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
export E2E_SERVER_VERSION="$(PGDATABASE="$db" psql -qAt -c 'SHOW server_version')"
export E2E_DATABASE="$db"
export E2E_DB_PASSWORD="$PGPASSWORD"
db_url="$(python3 -c 'import os,sys; from urllib.parse import urlsplit, urlunsplit; u=urlsplit(os.environ["E2E_BASE_DB_URL"]); print(urlunsplit(u._replace(path="/"+sys.argv[1])))' "$db")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export E2E_PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export E2E_BASE_URL="http://127.0.0.1:$port"

# Secrets reach the server through exported variables, never its command line.
start_server() {
  (cd "$work" && export DATABASE_URL="$db_url" HOLOMUSH_ADMIN_ADDR="127.0.0.1:$port" \
     HOLOMUSH_ADMIN_DATA="$work/data" HOLOMUSH_BACKUP_DIR="$work/backups" HOLOMUSH_ADMIN_PASSWORD="$1" && \
     exec "$BIN" serve >"$work/server.log" 2>&1) &
  server_pid=$!
  for _ in $(seq 1 100); do
    if python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$E2E_BASE_URL/healthz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "The server did not start; its output:" >&2
  cat "$work/server.log" >&2
  exit 1
}

# With a password.
start_server "$E2E_PASSWORD"
(cd "$ROOT/end2end" && npx playwright test tests/foundation.spec.ts)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true

# Without one: the one-time link printed at start-up.
start_server ""
export E2E_LOGIN_LINK="$(grep -o 'http://[^ ]*/login/link?token=[0-9a-f]*' "$work/server.log")"
(cd "$ROOT/end2end" && npx playwright test tests/one-time-link.spec.ts)
if grep -qF -f <(printf '%s\n' "$PGPASSWORD" "$E2E_PASSWORD") "$work/server.log" "$work/data/audit.log"; then
  echo "A password appeared in the server's output or the audit log." >&2
  exit 1
fi
