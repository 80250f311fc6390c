#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: installs Debian's `postgresql` if it is missing, starts a
# cluster of its own on 127.0.0.1 (a free port) with its files under $TRIBUTARY_PG_DIR, creates a role that
# may create databases (each test creates and drops its own), and prints one line for the caller to eval:
#
#   eval "$(scripts/ci-postgres.sh)"      # sets TEST_DATABASE_URL
#
# Everything else goes to stderr. Running it again reuses the cluster (a second or so). The cluster runs
# with fsync off: it holds test data only. Stop it with `scripts/ci-postgres.sh stop`.
set -euo pipefail

dir="${TRIBUTARY_PG_DIR:-/tmp/tributary-ci-postgres}"
data="$dir/data"
role=tributary
say() { echo "ci-postgres: $*" >&2; }

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

bindir="$(find_bindir)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    say "PostgreSQL is not installed and this is not root: run 'sudo apt-get install -y postgresql' first"
    exit 1
  fi
  say "installing PostgreSQL from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # policy-rc.d-less containers may try to start the distribution's own cluster; we do not use it.
  apt-get install -y -qq postgresql >&2
  bindir="$(find_bindir)"
  [[ -n "$bindir" && -x "$bindir/initdb" ]] || { say "apt-get installed no initdb under /usr/lib/postgresql"; exit 1; }
fi

# The server refuses to run as root: as root, everything runs as the `postgres` user Debian creates.
if [[ "$(id -u)" == 0 ]]; then
  owner=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  owner="$(id -un)"
  as_owner() { "$@"; }
fi

running() { as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; }

if [[ "${1:-}" == stop ]]; then
  if [[ -d "$data" ]] && running; then as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w >&2; fi
  exit 0
fi

mkdir -p "$dir"
chmod 755 "$dir"
chown "$owner" "$dir"

if [[ ! -f "$data/PG_VERSION" ]]; then
  say "creating a cluster in $data ($("$bindir/postgres" --version))"
  rm -rf "$data"
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
fi

# Reuse the port of a running cluster; otherwise the last one used if it is free, else any free one.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(Number(process.argv[1])||0,"127.0.0.1",()=>{console.log(s.address().port);s.close()}).on("error",()=>process.exit(1))' "${1:-0}"
}
if running; then
  port="$(sed -n 4p "$data/postmaster.pid")"
else
  port="$(cat "$dir/port" 2>/dev/null || true)"
  port="$( { [[ -n "$port" ]] && free_port "$port"; } || free_port 0)"
  say "starting PostgreSQL on 127.0.0.1:$port"
  as_owner "$bindir/pg_ctl" start -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >&2 || { tail -20 "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
fi

# A password of its own per cluster, kept beside it (the cluster only listens on 127.0.0.1).
if [[ ! -s "$dir/password" ]]; then
  (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password")
fi
password="$(cat "$dir/password")"

psql_admin() { as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]]; then
  psql_admin -c "CREATE ROLE $role LOGIN CREATEDB" >&2
fi
# The tests drop their databases WITH (FORCE); that may have to end an autovacuum worker, which takes
# pg_signal_backend. Granting it again is harmless.
psql_admin -c "GRANT pg_signal_backend TO $role" >&2
# Setting it every time keeps role and password file in step, even if either was replaced.
psql_admin -c "ALTER ROLE $role PASSWORD '$password'" >&2
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$role'")" != 1 ]]; then
  psql_admin -c "CREATE DATABASE $role OWNER $role" >&2
fi

echo "export TEST_DATABASE_URL=postgres://$role:$password@127.0.0.1:$port/$role"
