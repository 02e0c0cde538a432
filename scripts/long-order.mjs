// Does a chat turn cost more as its order's history grows? One conversation edits one
// draft order for --turns turns (add, change, remove, again and again: every turn
// appends events), timing each turn; prints the median of the first and the last
// --window turns and their ratio (issue 15: flat, ≈ 1.0, with the stored order snapshot;
// the events fold grows with the history).
//   node scripts/long-order.mjs [--base http://127.0.0.1:3000] [--turns 700] [--window 50]
// Start the server with the chat rate limits raised (see scripts/load.sh).
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    base: { type: "string", default: "http://127.0.0.1:3000" },
    turns: { type: "string", default: "700" },
    window: { type: "string", default: "50" },
  },
});
const base = values.base;
const turns = Number(values.turns);
const window = Number(values.window);
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

const { id } = await post("/api/v1/conversations");
const latencies = [];
for (let i = 0; i < turns; i++) {
  const start = performance.now();
  await post(`/api/v1/conversations/${id}/messages`, { text: script[i % script.length] });
  latencies.push(performance.now() - start);
}
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const first = median(latencies.slice(0, window));
const last = median(latencies.slice(-window));
console.log(
  `${turns} turns on one order (conversation ${id}): median of the first ${window} ` +
    `${first.toFixed(2)} ms, of the last ${window} ${last.toFixed(2)} ms, ` +
    `ratio ${(last / first).toFixed(2)}`,
);
