// A webhook receiver for benchmarks and for trying Gapless out: verifies every Standard
// Webhooks signature, answers 204, and reports on `GET /stats` how many messages came,
// how many verified, when the first and last arrived, and the lag of each (arrival
// minus the event's own timestamp) as p50/p99.
//   node scripts/webhook-receiver.mjs --port 3220 --secret whsec_...
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "3220" }, secret: { type: "string" } },
});
let key = values.secret ? Buffer.from(values.secret.replace(/^whsec_/, ""), "base64") : null;

/** Standard Webhooks v1: HMAC-SHA256 over `id.timestamp.body`, base64, in "v1,<sig>". */
function verified(headers, body) {
  if (!key) return false;
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  return (headers["webhook-signature"] ?? "").split(" ").some((part) => {
    const [version, signature] = part.split(",");
    const sent = Buffer.from(signature ?? "", "base64");
    return version === "v1" && sent.length === expected.length && timingSafeEqual(sent, expected);
  });
}

let stats = { received: 0, verified: 0, first: null, last: null, lags: [], ids: new Set() };
const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    const lags = [...stats.lags].sort((a, b) => a - b);
    const at = (q) => (lags.length ? lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] : null);
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({
      received: stats.received, verified: stats.verified, unique: stats.ids.size,
      first: stats.first, last: stats.last, lag_p50_ms: at(0.5), lag_p99_ms: at(0.99),
    }));
    return;
  }
  if (request.method === "POST" && request.url.startsWith("/reset")) {
    const secret = new URL(request.url, "http://x").searchParams.get("secret");
    if (secret) key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    stats = { received: 0, verified: 0, first: null, last: null, lags: [], ids: new Set() };
    response.end("reset\n");
    return;
  }
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const now = Date.now();
    stats.received += 1;
    if (verified(request.headers, body)) stats.verified += 1;
    stats.ids.add(request.headers["webhook-id"]);
    stats.first ??= now;
    stats.last = now;
    try {
      stats.lags.push(now - Date.parse(JSON.parse(body).timestamp));
    } catch {}
    response.statusCode = 204;
    response.end();
  });
});
server.listen(Number(values.port), "127.0.0.1");
