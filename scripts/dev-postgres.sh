#!/usr/bin/env bash
# The private development PostgreSQL cluster that `make run` and the tests use when
# DATABASE_URL / TEST_DATABASE_URL are not set. It lives under the console's data
# directory, listens on a free loopback port, and has a `holomush` database and role.
#
#   scripts/dev-postgres.sh url     start if needed, print the connection URL on stdout
#   scripts/dev-postgres.sh start   start if needed, print where it is (password masked)
#   scripts/dev-postgres.sh stop    stop it
#
# The URL printed by `url` holds the role's password: capture it into a variable,
# never a command line.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${HOLOMUSH_ADMIN_DATA:-$ROOT/data}"
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"
CLUSTER="$DATA/postgres"
PASSFILE="$DATA/dev-db-password"
PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
cmd="${1:-url}"

log() { printf '%s\n' "$*" >&2; }

if [ ! -x "$PGBIN/initdb" ]; then
  log "PostgreSQL server binaries were not found under /usr/lib/postgresql: run scripts/install-toolchain.sh (it installs postgresql-15)."
  exit 1
fi

# PostgreSQL refuses to run as root: as root, run the server as the postgres user.
as_pg() {
  # From / : the caller's folder may be one the postgres user cannot enter.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$DATA"; then
  # The postgres user cannot reach the data folder (a home directory, say): keep the
  # cluster in a folder of its own, named after the data folder.
  CLUSTER="/var/tmp/holomush-admin-pg-$(printf '%s' "$DATA" | sha256sum | cut -c1-12)"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_in_use() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

running() { [ -f "$CLUSTER/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; }

psql_admin() {
  # The superuser password goes through the environment, never the command line.
  PGPASSWORD="$(cat "$DATA/dev-db-superuser-password")" "$PGBIN/psql" -h 127.0.0.1 -p "$(cat "$DATA/dev-db-port")" \
    -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

start() {
  if [ -f "$CLUSTER/PG_VERSION" ] && { [ ! -f "$PASSFILE" ] || [ ! -f "$DATA/dev-db-superuser-password" ]; }; then
    # A cluster left by an earlier data folder of the same path (a removed clone, say):
    # its passwords are gone with that folder, so it is of no use to anyone. Start afresh.
    log "The development cluster in $CLUSTER has lost its passwords (its data folder was removed): recreating it."
    as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER"
  fi
  if [ ! -f "$CLUSTER/PG_VERSION" ]; then
    log "Creating the development PostgreSQL cluster in $CLUSTER"
    umask 077
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA/dev-db-superuser-password"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PASSFILE"
    if [ "$(id -u)" -eq 0 ]; then install -d -o postgres -g postgres -m 700 "$CLUSTER"; else mkdir -p -m 700 "$CLUSTER"; fi
    pwtmp="$(mktemp)"
    cp "$DATA/dev-db-superuser-password" "$pwtmp"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pwtmp"
    as_pg "$PGBIN/initdb" -D "$CLUSTER" -U postgres --pwfile="$pwtmp" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwtmp"
    umask 022
    fresh=1
  fi
  if ! running; then
    port="$(cat "$DATA/dev-db-port" 2>/dev/null || true)"
    if [ -z "$port" ] || port_in_use "$port"; then port="$(free_port)"; fi
    echo "$port" > "$DATA/dev-db-port"
    as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -l "$CLUSTER/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=300 -c fsync=off" \
      start >/dev/null || { log "The development cluster did not start; its log is $CLUSTER/server.log:"; tail -n 20 "$CLUSTER/server.log" >&2 || true; exit 1; }
  fi
  if [ "${fresh:-0}" = 1 ] || [ "$(psql_admin -c "SELECT count(*) FROM pg_database WHERE datname = 'holomush'")" != 1 ]; then
    # Through stdin, not -v: the role's password must not show in the process list.
    psql_admin <<SQL
SELECT format('CREATE ROLE holomush LOGIN CREATEDB PASSWORD %L', '$(cat "$PASSFILE")') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'holomush') \gexec
SELECT 'CREATE DATABASE holomush OWNER holomush' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'holomush') \gexec
SQL
  fi
}

url() { printf 'postgres://holomush:%s@127.0.0.1:%s/holomush\n' "$(cat "$PASSFILE")" "$(cat "$DATA/dev-db-port")"; }

case "$cmd" in
  url) start; url ;;
  start) start; log "Development PostgreSQL is running: postgres://holomush:****@127.0.0.1:$(cat "$DATA/dev-db-port")/holomush (password in $PASSFILE)" ;;
  stop) if running; then as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -m fast stop >/dev/null; log "Stopped the development cluster."; fi ;;
  *) log "usage: $0 url|start|stop"; exit 2 ;;
esac
