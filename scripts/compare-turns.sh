#!/usr/bin/env bash
# Two or more builds of gapless, alternating in one run: for each round and each binary,
# `gapless serve` on a fresh SQLite file (rate limits raised, as load.sh starts it), then
# `gapless bench-turns`, and the server's own CPU time per turn answered (utime + stime
# from /proc). CPU a turn moves less with a shared machine's noise than turns/s does.
#   scripts/compare-turns.sh /tmp/gapless-before target/gapless
#   ROUNDS=3 SECONDS_EACH=5 WORKERS="1 8" scripts/compare-turns.sh A B
# The client (`gapless bench-turns`) shares the cores with the server, so its own CPU a
# turn is shown too. It is the first binary's for every server, unless CLIENT names
# another binary, or is `own`: each binary then measures itself (a change to the client
# is part of what is compared).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ $# -ge 1 ] || die "usage: scripts/compare-turns.sh BINARY [BINARY...]"
for bin in "$@"; do [ -x "$bin" ] || die "not an executable: $bin"; done
rounds=${ROUNDS:-3}
seconds=${SECONDS_EACH:-5}
workers=${WORKERS:-8}
port=${LOAD_PORT:-3229}
client=${CLIENT:-$1}
[ "$client" = own ] || [ -x "$client" ] || die "CLIENT is not an executable: $client"
ticks=$(getconf CLK_TCK)
export GAPLESS_RATE_IP_BURST=1000000 GAPLESS_RATE_IP_PER_SECOND=1000000
export GAPLESS_RATE_CHAT_BURST=1000000 GAPLESS_RATE_CHAT_PER_SECOND=1000000
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
server=""
dir=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$dir" ] && rm -rf "$dir"' EXIT
for round in $(seq "$rounds"); do
  for bin in "$@"; do
    dir=$(mktemp -d)
    DATABASE_URL="sqlite://$dir/compare.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
      "$bin" serve >/dev/null 2>"$dir/log" &
    server=$!
    for _ in $(seq 100); do
      curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
      sleep 0.1
    done
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || die "$bin did not start: $(cat "$dir/log")"
    measuring=$client
    [ "$client" = own ] && measuring=$bin
    for w in $workers; do
      before=$(cpu_ticks "$server")
      # bash's `time` gives the client's user and system seconds; the client's own
      # output and messages go to files, so that neither is taken for the other.
      spent=$( { TIMEFORMAT='%U %S'; time "$measuring" bench-turns \
        --base "http://127.0.0.1:$port" --workers "$w" --seconds "$seconds" \
        >"$dir/turns" 2>"$dir/client-log"; } 2>&1 ) ||
        die "$measuring bench-turns failed: $(cat "$dir/client-log")"
      after=$(cpu_ticks "$server")
      line=$(head -n 1 "$dir/turns")
      turns=$(awk '{print $1}' <<<"$line")
      [ "$turns" -gt 0 ] 2>/dev/null || die "could not read the turns from: $line"
      cpu=$(awk -v t="$((after - before))" -v hz="$ticks" -v n="$turns" \
        'BEGIN { printf "%.3f", t * 1000 / hz / n }')
      client_cpu=$(awk -v n="$turns" '{ printf "%.3f", ($1 + $2) * 1000 / n }' <<<"$spent")
      echo "round $round, $bin, $w worker(s): server CPU $cpu ms a turn, client $client_cpu; $line"
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    rm -rf "$dir"
    dir=""
  done
done
