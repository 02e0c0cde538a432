#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the test suite when none answers on 127.0.0.1:$PORT:
# installs Debian's server if it is missing, makes a cluster in a temporary folder (trust
# auth, database `test`), runs it as the `postgres` user, and prints the URL to use.
#   scripts/postgres.sh [PORT]     (default 5432)
# It stops with the machine; nothing outside the temporary folder is changed.
source "$(dirname "$0")/lib.sh"
port=${1:-5432}
url="postgres://postgres@127.0.0.1:$port/test"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
if answers; then
  echo "$url"
  exit 0
fi

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bin_dir)" ]; then
  apt_install postgresql
fi
bin=$(bin_dir)
[ -x "$bin/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql after installing it"

dir=$(mktemp -d /tmp/gapless-postgres.XXXXXX)
user=$(id -un)
run() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  # The server refuses to run as root.
  id postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home postgres
  chown postgres "$dir"
  user=postgres
  run() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
fi
say "starting a PostgreSQL for the tests on 127.0.0.1:$port (data in $dir, as $user)"
run "$bin/initdb" --auth=trust --username=postgres --encoding=UTF8 -D "$dir/data" >"$dir/initdb.log" 2>&1 ||
  die "initdb failed: see $dir/initdb.log"
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null ||
  die "PostgreSQL did not start: see $dir/server.log"
run "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test || die "could not create the database test"
answers || die "PostgreSQL started but does not answer on 127.0.0.1:$port"
echo "$url"
