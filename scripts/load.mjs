// Load against a running Gapless: chat turns per second and turn latency, and in the
// same run the physical limit: one-row insert transactions per second on the same
// database (`gapless bench-writes`), with the ratio of the two.
//   node scripts/load.mjs [--base http://127.0.0.1:3000] [--workers 8] [--seconds 10]
//                         [--database-url sqlite://data/gapless.db] [--gapless target/gapless]
// Without --database-url only the turns are measured.
// Each worker runs one short conversation after another, each a few edits of a draft
// (never confirming, so stock is untouched), as shoppers do. Start the server with rate limits raised, e.g.
//   GAPLESS_RATE_IP_BURST=1000000 GAPLESS_RATE_IP_PER_SECOND=1000000 \
//   GAPLESS_RATE_CHAT_BURST=1000000 GAPLESS_RATE_CHAT_PER_SECOND=1000000 target/gapless
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    base: { type: "string", default: "http://127.0.0.1:3000" },
    workers: { type: "string", default: "8" },
    seconds: { type: "string", default: "10" },
    "database-url": { type: "string" },
    gapless: { type: "string", default: "target/gapless" },
  },
});
const base = values.base;
const workers = Number(values.workers);
const deadline = Date.now() + Number(values.seconds) * 1000;
const script = [
  "two black tees in m and a trail bottle",
  "make that 3",
  "add a diet coke",
  "remove the diet coke",
  "change the tee to large",
  "remove the tee",
  "remove the trail bottle",
];

async function post(path, body) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function worker(latencies) {
  let id;
  for (let i = 0; Date.now() < deadline; i++) {
    if (i % script.length === 0) ({ id } = await post("/api/v1/conversations"));
    const start = performance.now();
    await post(`/api/v1/conversations/${id}/messages`, { text: script[i % script.length] });
    latencies.push(performance.now() - start);
  }
}

const latencies = [];
const started = performance.now();
await Promise.all(Array.from({ length: workers }, () => worker(latencies)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
const turnsPerSecond = latencies.length / elapsed;
console.log(
  `${latencies.length} turns in ${elapsed.toFixed(1)} s with ${workers} workers: ` +
    `${turnsPerSecond.toFixed(0)} turns/s, ` +
    `p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms`,
);

if (values["database-url"]) {
  const raw = execFileSync(
    values.gapless,
    ["--database-url", values["database-url"], "bench-writes", "--workers", String(workers),
      "--seconds", values.seconds],
    { encoding: "utf8", env: { ...process.env, RUST_LOG: "warn" } },
  ).trim();
  console.log(raw);
  const rawPerSecond = Number(/: (\d+) tx\/s/.exec(raw)?.[1]);
  console.log(`turns/s as a share of the raw insert rate: ${((100 * turnsPerSecond) / rawPerSecond).toFixed(0)} %`);
}
