#!/usr/bin/env bash
# The private development PostgreSQL clusters that `make run` and the tests use when
# DATABASE_URL / TEST_DATABASE_URL are not set: one per major, side by side, each under the
# console's data directory on a free loopback port, with a `holomush` database and role.
# PG_MAJOR (14, 15, 16, 17 or 18; default 18, the one `make run` uses) picks the cluster.
#
#   scripts/dev-postgres.sh url       start if needed, print the connection URL on stdout
#   scripts/dev-postgres.sh superurl  start if needed, print the superuser's URL (tests only)
#   scripts/dev-postgres.sh start     start if needed, print where it is (password masked)
#   scripts/dev-postgres.sh stop      stop it
#   scripts/dev-postgres.sh restart   restart it (pg_ctl restart -m fast), ending every session
#   scripts/dev-postgres.sh status    exit 0 when it runs, 3 when it does not
#   scripts/dev-postgres.sh stop-all  stop the clusters of every major under this data folder
#   scripts/dev-postgres.sh dir       print the folder of the server binaries it uses
#
# Files in the data folder: 18 keeps the names of the single cluster there was before
# (postgres/, dev-db-password, dev-db-superuser-password, dev-db-port); every other major
# adds "-MAJOR" (postgres-14/, dev-db-password-14, …). Where the binaries of each major come
# from: scripts/pg-lib.sh (scripts/install-postgres.sh installs them).
#
# The URL printed by `url` holds the role's password: capture it into a variable,
# never a command line.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=scripts/pg-lib.sh
. "$HERE/pg-lib.sh"
DATA="${HOLOMUSH_ADMIN_DATA:-$ROOT/data}"
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"
MAJOR="${PG_MAJOR:-18}"
cmd="${1:-url}"

log() { printf '%s\n' "$*" >&2; }

pg_known_major "$MAJOR" || { log "PG_MAJOR=$MAJOR: expected one of $PG_MAJORS_ALL."; exit 2; }

# As root the server runs as the postgres user, and the console keeps its data folder 0700
# (it makes an existing one so), which that user cannot enter: as root, the clusters live in
# folders of their own, named after the data folder.
OUTSIDE=""
if [ "$(id -u)" -eq 0 ]; then
  OUTSIDE="/var/tmp/holomush-admin-pg-$(printf '%s' "$DATA" | sha256sum | cut -c1-12)"
fi

# Sets the paths of major $1's cluster: CLUSTER, PASSFILE, SUPERFILE, PORTFILE, PGBIN, PGLIB.
use_major() {
  local sfx=""
  [ "$1" = 18 ] || sfx="-$1"
  CLUSTER="${OUTSIDE:-$DATA/postgres}$sfx"
  PASSFILE="$DATA/dev-db-password$sfx"
  SUPERFILE="$DATA/dev-db-superuser-password$sfx"
  PORTFILE="$DATA/dev-db-port$sfx"
  PGBIN="$(pg_bin_dir "$1")"
  PGLIB="$(pg_lib_dir "$1")"
  CLUSTER_MAJOR="$1"
  move_out_of_data "$DATA/postgres$sfx"
}

# A cluster an earlier version of this script made inside the data folder (as root): moved
# out, stopped first, before the console makes the folder 0700 under it.
move_out_of_data() {
  local inside="$1"
  [ -n "$OUTSIDE" ] && [ -f "$inside/PG_VERSION" ] && [ ! -e "$CLUSTER" ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$inside" -m fast -w stop >/dev/null 2>&1 || true
  log "Moving the development cluster from $inside to $CLUSTER (the data folder is kept private)."
  mv "$inside" "$CLUSTER"
}

# PostgreSQL refuses to run as root: as root, run the server as the postgres user. The npm
# builds (14, 16, 17) find their libraries through LD_LIBRARY_PATH.
as_pg() {
  local envs=()
  [ -z "$PGLIB" ] || envs=("LD_LIBRARY_PATH=$PGLIB")
  # From / : the caller's folder may be one the postgres user cannot enter.
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- env "${envs[@]}" "$@")
  else
    env "${envs[@]}" "$@"
  fi
}

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

running() { [ -f "$CLUSTER/PG_VERSION" ] && [ -x "$PGBIN/pg_ctl" ] && as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; }

# Stops the cluster set by use_major, with its own pg_ctl (or a signal when its major's
# binaries are gone).
stop_cluster() {
  if running; then
    as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -m fast stop >/dev/null
    log "Stopped the development PostgreSQL $CLUSTER_MAJOR cluster."
  elif [ ! -x "$PGBIN/pg_ctl" ] && [ -f "$CLUSTER/postmaster.pid" ]; then
    local pid
    pid="$(head -n 1 "$CLUSTER/postmaster.pid")"
    if kill -INT "$pid" 2>/dev/null; then
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      log "Stopped the development PostgreSQL $CLUSTER_MAJOR cluster (pid $pid)."
    fi
  fi
}

# Admin work goes through one psql that talks to every major (18's, else Debian's 15).
PSQL="$(pg_client_bin_dir)/psql"
psql_admin() {
  # The superuser password goes through the environment, never the command line.
  PGPASSWORD="$(cat "$SUPERFILE")" "$PSQL" -h 127.0.0.1 -p "$(cat "$PORTFILE")" \
    -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

# A cluster of another major in this major's folder: the single development cluster of
# earlier versions of this script (PostgreSQL 15) now sits where 18's goes. Move it, with
# its password and port files, to its own major's place; refuse when that is taken.
relocate_foreign_cluster() {
  local have
  have="$(cat "$CLUSTER/PG_VERSION")"
  [ "$have" != "$MAJOR" ] || return 0
  local from_cluster="$CLUSTER" from_pass="$PASSFILE" from_super="$SUPERFILE" from_port="$PORTFILE"
  if ! pg_known_major "$have"; then
    log "$CLUSTER holds a PostgreSQL $have cluster, not $MAJOR: remove it (rm -rf $CLUSTER) and run this again."
    exit 1
  fi
  use_major "$have"
  if [ -e "$CLUSTER" ] || [ -e "$PASSFILE" ] || [ -e "$SUPERFILE" ]; then
    log "$from_cluster holds a PostgreSQL $have cluster, not $MAJOR, and $CLUSTER is taken: remove one (rm -rf $from_cluster) and run this again."
    exit 1
  fi
  # Stopped with the binaries of its own major.
  local to_cluster="$CLUSTER"
  CLUSTER="$from_cluster"
  stop_cluster
  log "Moving the PostgreSQL $have development cluster from $from_cluster to $to_cluster (PostgreSQL $MAJOR gets a new one)."
  mv "$from_cluster" "$to_cluster"
  [ ! -e "$from_pass" ] || mv "$from_pass" "$PASSFILE"
  [ ! -e "$from_super" ] || mv "$from_super" "$SUPERFILE"
  [ ! -e "$from_port" ] || mv "$from_port" "$PORTFILE"
  use_major "$MAJOR"
}

start() {
  if [ ! -x "$PGBIN/initdb" ]; then
    if [ "$MAJOR" = 15 ]; then
      log "PostgreSQL 15's server binaries are not in $PGBIN: run scripts/install-toolchain.sh (it installs Debian's postgresql-15)."
    else
      log "PostgreSQL $MAJOR's server binaries are not in $PGBIN: run scripts/install-postgres.sh (or scripts/install-toolchain.sh)."
    fi
    exit 1
  fi
  if [ -f "$CLUSTER/PG_VERSION" ]; then relocate_foreign_cluster; fi
  if [ -f "$CLUSTER/PG_VERSION" ] && { [ ! -f "$PASSFILE" ] || [ ! -f "$SUPERFILE" ]; }; then
    # A cluster left by an earlier data folder of the same path (a removed clone, say):
    # its passwords are gone with that folder, so it is of no use to anyone. Start afresh.
    log "The development cluster in $CLUSTER has lost its passwords (its data folder was removed): recreating it."
    as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER"
  fi
  if [ ! -f "$CLUSTER/PG_VERSION" ]; then
    if [ "$(id -u)" -eq 0 ] && ! (cd / && runuser -u postgres -- test -x "$PGBIN/postgres"); then
      log "The postgres user cannot run $PGBIN/postgres: point HOLOMUSH_PG_TOOLS at a folder it can reach and run scripts/install-postgres.sh."
      exit 1
    fi
    log "Creating the development PostgreSQL $MAJOR cluster in $CLUSTER"
    umask 077
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SUPERFILE"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PASSFILE"
    rm -rf "$CLUSTER" # a folder without PG_VERSION: an initdb that did not finish
    if [ "$(id -u)" -eq 0 ]; then install -d -o postgres -g postgres -m 700 "$CLUSTER"; else mkdir -p -m 700 "$CLUSTER"; fi
    pwtmp="$(mktemp)"
    cp "$SUPERFILE" "$pwtmp"
    [ "$(id -u)" -ne 0 ] || chown postgres "$pwtmp"
    # C.UTF-8 works with every build here (the npm ones use the system's C library).
    # --no-sync: a development cluster, which runs with fsync=off anyway.
    as_pg "$PGBIN/initdb" -D "$CLUSTER" -U postgres --pwfile="$pwtmp" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      --no-sync >/dev/null
    rm -f "$pwtmp"
    umask 022
    fresh=1
  fi
  if ! running; then
    port="$(cat "$PORTFILE" 2>/dev/null || true)"
    if [ -z "$port" ] || port_in_use "$port"; then port="$(free_port)"; fi
    echo "$port" >"$PORTFILE"
    as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -l "$CLUSTER/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=300 -c fsync=off" \
      start >/dev/null || {
      log "The development PostgreSQL $MAJOR cluster did not start; its log is $CLUSTER/server.log:"
      tail -n 20 "$CLUSTER/server.log" >&2 || true
      exit 1
    }
  fi
  if [ "${fresh:-0}" = 1 ] || [ "$(psql_admin -c "SELECT count(*) FROM pg_database d, pg_roles r WHERE d.datname = 'holomush' AND r.rolname = 'holomush' AND r.rolcreaterole")" != 1 ]; then
    # Through stdin, not -v: the role's password must not show in the process list.
    psql_admin <<SQL
SELECT format('CREATE ROLE holomush LOGIN CREATEDB PASSWORD %L', '$(cat "$PASSFILE")') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'holomush') \gexec
-- The tests make a role per password a person may choose (quotes, spaces, non-ASCII…).
ALTER ROLE holomush CREATEROLE;
SELECT 'CREATE DATABASE holomush OWNER holomush' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'holomush') \gexec
SQL
  fi
}

url() { printf 'postgres://holomush:%s@127.0.0.1:%s/holomush\n' "$(cat "$PASSFILE")" "$(cat "$PORTFILE")"; }
# The cluster's superuser, for the tests that prove what an archive cannot do even when the
# console's own role is a superuser. Never used by the console.
superurl() { printf 'postgres://postgres:%s@127.0.0.1:%s/postgres\n' "$(cat "$SUPERFILE")" "$(cat "$PORTFILE")"; }

use_major "$MAJOR"
case "$cmd" in
  url) start; url ;;
  superurl) start; superurl ;;
  start)
    start
    log "Development PostgreSQL $MAJOR is running: postgres://holomush:****@127.0.0.1:$(cat "$PORTFILE")/holomush (password in $PASSFILE)"
    ;;
  stop) stop_cluster ;;
  # PostgreSQL restarted under a running job (server/tests/faults.rs): every session ends.
  restart) start >/dev/null; as_pg "$PGBIN/pg_ctl" -D "$CLUSTER" -m fast -w -t 60 restart -l "$CLUSTER/server.log" >/dev/null ;;
  status) if running; then exit 0; else exit 3; fi ;;
  stop-all) for m in $PG_MAJORS_ALL; do use_major "$m"; stop_cluster; done ;;
  dir) printf '%s\n' "$PGBIN" ;;
  *) log "usage: [PG_MAJOR=14|15|16|17|18] $0 url|superurl|start|stop|restart|status|stop-all|dir"; exit 2 ;;
esac
