// Time to interactive, Lighthouse-style: each page loaded in a fresh browser context
// (empty cache) in Debian's chromium, throttled through the DevTools protocol like
// Lighthouse's "slow 4G" (150 ms round trip, 1.6 Mbps down, 750 kbps up, CPU 4x slower),
// timed from navigation start to `data-hydrated` on <body>, which the app sets once the
// wasm has hydrated the page. Prints every run and the median per page.
//   node scripts/tti.mjs --base http://127.0.0.1:3000 [--runs 5] [--no-throttle] [/ /returns …]
// `make tti` (scripts/tti.sh) starts the release server on a fresh database first.
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return value;
};
const base = option("--base", "http://127.0.0.1:3000");
const runs = Number(option("--runs", "5"));
const throttle = !args.includes("--no-throttle");
const paths = args.filter((a) => !a.startsWith("--"));
if (paths.length === 0) paths.push("/", "/returns");

// Lighthouse's mobile defaults (its "simulated slow 4G", applied here for real).
const network = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024) / 8,
  uploadThroughput: (750 * 1024) / 8,
};
const cpuSlowdown = 4;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

// Records when <body> gets `data-hydrated`, in ms since navigation start.
const marker = () => {
  new MutationObserver((_, observer) => {
    if (document.body?.hasAttribute("data-hydrated")) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
};

async function measure(path) {
  const context = await browser.newContext({ viewport: { width: 412, height: 823 } });
  const page = await context.newPage();
  await page.addInitScript(marker);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  if (throttle) {
    await cdp.send("Network.emulateNetworkConditions", network);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpuSlowdown });
  }
  // Bytes on the wire per file, and the encoding the server chose.
  const urls = new Map();
  let bytes = 0;
  const wasm = [];
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    urls.set(requestId, { url: response.url, encoding: response.headers["content-encoding"] ?? "identity" });
  });
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    bytes += encodedDataLength;
    const seen = urls.get(requestId);
    if (seen?.url.endsWith(".wasm")) wasm.push(`${new URL(seen.url).pathname} ${encodedDataLength} B ${seen.encoding}`);
  });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(base + path, { waitUntil: "commit", timeout: 120_000 });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 120_000, polling: 50 });
  const hydrated = await page.evaluate(() => window.__hydratedAt);
  const dcl = await page.evaluate(() => performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd ?? 0);
  await context.close();
  if (errors.length) throw new Error(`${path}: ${errors.join("; ")}`);
  return { hydrated, dcl, bytes, wasm };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

console.log(
  throttle
    ? `throttled: ${network.latency} ms RTT, ${(network.downloadThroughput * 8) / 1024 / 1024} Mbps down, CPU ${cpuSlowdown}x; ${runs} runs a page, cold cache`
    : `not throttled; ${runs} runs a page, cold cache`,
);
const results = [];
for (const path of paths) {
  await measure(path); // warm the server (and the OS's file cache), not counted
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    last = await measure(path);
    times.push(last.hydrated);
    console.log(`  ${path} run ${i + 1}: hydrated at ${last.hydrated.toFixed(0)} ms (DOMContentLoaded ${last.dcl.toFixed(0)} ms, ${last.bytes} B transferred)`);
  }
  console.log(`  ${path} wasm: ${last.wasm.join(", ")}`);
  results.push({ path, median: median(times), min: Math.min(...times), max: Math.max(...times) });
}
await browser.close();
for (const { path, median: m, min, max } of results) {
  console.log(`${path.padEnd(10)} time to interactive (hydrated), median ${m.toFixed(0)} ms (min ${min.toFixed(0)}, max ${max.toFixed(0)})`);
}
