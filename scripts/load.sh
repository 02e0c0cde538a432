#!/usr/bin/env bash
# `make load`: the release server on a fresh SQLite file (or LOAD_DATABASE_URL), then
# `gapless bench-turns` (a Rust HTTP client, keep-alive) with 1 and 8 workers. On SQLite,
# first the ceiling they are measured against: SQLite's own commit rate on the same file
# from a plain single-threaded loop (`gapless bench-writes --plain`), one row and 16
# rows a transaction, and after each load the turns' share of it. A webhook endpoint (scripts/webhook-receiver.mjs, verifying every
# signature) takes every order event meanwhile: after each run, the messages it got and
# their lag (arrival minus event time). Last, the delivery rate: the endpoint paused
# during a load, then resumed, and the backlog timed. Run `make build` first.
#   LOAD_SECONDS=6 scripts/load.sh
# GAPLESS_BIN names another build of the binary (to compare two in one session).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bin=${GAPLESS_BIN:-target/gapless}
[ -x "$bin" ] || die "no $bin: run make build first"
seconds=${LOAD_SECONDS:-6}
port=${LOAD_PORT:-3219}
dir=$(mktemp -d)
url=${LOAD_DATABASE_URL:-sqlite://$dir/load.db}
export GAPLESS_RATE_IP_BURST=1000000 GAPLESS_RATE_IP_PER_SECOND=1000000
export GAPLESS_RATE_CHAT_BURST=1000000 GAPLESS_RATE_CHAT_PER_SECOND=1000000
DATABASE_URL=$url LEPTOS_SITE_ADDR=127.0.0.1:$port RUST_LOG=warn "$bin" serve &
server=$!
hook_port=$((port + 1))
node scripts/webhook-receiver.mjs --port "$hook_port" &
receiver=$!
trap 'kill $server $receiver 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
added=$(DATABASE_URL=$url RUST_LOG=warn "$bin" webhook add "http://127.0.0.1:$hook_port/hook")
secret=$(grep '^whsec_' <<<"$added")
endpoint=$(sed -n 's/^webhook endpoint \(ep_[0-9a-f]*\) added.*/\1/p' <<<"$added")
[ -n "$secret" ] && [ -n "$endpoint" ] || die "could not add the load's webhook endpoint"
# The secret is base64 (`+`, `/`, `=`): encoded, or `+` would arrive as a space.
curl -fs -X POST -G --data-urlencode "secret=$secret" "http://127.0.0.1:$hook_port/reset" >/dev/null

# Waits until the receiver has had nothing new for a second, then prints its stats.
settled() {
  local before="" now
  while true; do
    now=$(curl -fs "http://127.0.0.1:$hook_port/stats")
    [ "$now" = "$before" ] && { echo "$now"; return; }
    before=$now
    sleep 1
  done
}

plain=""
if [[ $url == sqlite:* ]]; then
  say "the ceiling: SQLite's plain single-threaded commit rate on the same file"
  line=$(DATABASE_URL=$url RUST_LOG=warn "$bin" bench-writes --plain --seconds 3)
  echo "$line"
  plain=$(sed -n 's/.*: \([0-9]*\) tx\/s.*/\1/p' <<<"$line")
  DATABASE_URL=$url RUST_LOG=warn "$bin" bench-writes --plain --rows 16 --seconds 3
fi

for workers in 1 8; do
  say "load: $workers worker(s), $seconds s"
  curl -fs -X POST "http://127.0.0.1:$hook_port/reset" >/dev/null
  line=$("$bin" bench-turns --base "http://127.0.0.1:$port" --workers "$workers" \
    --seconds "$seconds")
  echo "$line"
  if [ -n "$plain" ] && [ "$plain" -gt 0 ]; then
    turns=$(sed -n 's/.*: \([0-9]*\) turns\/s.*/\1/p' <<<"$line")
    [ -n "$turns" ] || die "could not read the turn rate from: $line"
    echo "turns/s as a share of the plain commit rate ($plain tx/s): $((100 * turns / plain)) %"
  fi
  stats=$(settled)
  node -e '
    const s = JSON.parse(process.argv[1]);
    console.log(`webhooks during the load: ${s.received} messages (${s.verified} verified, ${s.unique} unique), lag p50 ${s.lag_p50_ms} ms, p99 ${s.lag_p99_ms} ms`);
    if (s.verified !== s.received) {
      console.error("error: the receiver could not verify every signature");
      process.exit(1);
    }
  ' "$stats"
done

say "webhook delivery rate: the endpoint paused during an 8-worker load, then resumed"
DATABASE_URL=$url RUST_LOG=warn "$bin" webhook pause "$endpoint" >/dev/null
"$bin" bench-turns --base "http://127.0.0.1:$port" --workers 8 --seconds "$seconds" >/dev/null
curl -fs -X POST "http://127.0.0.1:$hook_port/reset" >/dev/null
DATABASE_URL=$url RUST_LOG=warn "$bin" webhook resume "$endpoint" >/dev/null
stats=$(settled)
node -e '
  const s = JSON.parse(process.argv[1]);
  const seconds = (s.last - s.first) / 1000;
  console.log(`backlog of ${s.received} messages (${s.verified} verified) delivered in ${seconds.toFixed(1)} s: ${(s.received / seconds).toFixed(0)} messages/s`);
' "$stats"
