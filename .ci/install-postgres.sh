#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl, postgres) available to the tests, which start a
# throwaway cluster of their own (tests/pg.py). Idempotent, and never fails CI: without a server the
# PostgreSQL tests skip and say why. Only the Debian package is installed; no cluster is created or started.
set -u

log() { echo "install-postgres: $*"; }

# Same search as tests/pg.py: LINLI_TEST_PG_BINDIR alone if set, else PATH, then the distributions' layouts.
found_bindir() {
  local dir dirs=()
  if [ -n "${LINLI_TEST_PG_BINDIR:-}" ]; then
    dirs=("$LINLI_TEST_PG_BINDIR")
  else
    IFS=: read -r -a dirs <<<"${PATH:-}"
    dirs+=(/usr/lib/postgresql/*/bin /usr/pgsql-*/bin /usr/local/pgsql/bin)
  fi
  for dir in "${dirs[@]}"; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if [ -n "${LINLI_TEST_PG_URL:-}" ]; then
  log "LINLI_TEST_PG_URL is set: the tests use that server, nothing to install"
  exit 0
fi
if dir=$(found_bindir); then
  log "server binaries found in $dir"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "no server binaries and no apt-get here: the PostgreSQL tests will skip"
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    log "not root and no password-less sudo: cannot apt-get install postgresql; the PostgreSQL tests will skip"
    exit 0
  fi
fi

# Debian's package would otherwise create (and try to start) a 'main' cluster on port 5432 the tests never use.
"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d 2>/dev/null &&
  echo "create_main_cluster = false" |
  "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/linli-no-main-cluster.conf >/dev/null 2>&1

apt_log=$(mktemp)
log "installing the Debian postgresql package (apt-get update + install)"
if "${sudo[@]}" apt-get update -qq >"$apt_log" 2>&1 &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql \
    >>"$apt_log" 2>&1; then
  if dir=$(found_bindir); then
    log "installed; server binaries in $dir"
  else
    log "apt-get succeeded but no server binaries were found: the PostgreSQL tests will skip"
  fi
else
  log "apt-get failed (the PostgreSQL tests will skip); its last lines:"
  tail -n 5 "$apt_log" | sed 's/^/  /'
fi
rm -f "$apt_log"
exit 0
