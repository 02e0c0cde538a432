// Writes .br and .gz next to every js, wasm, css and svg file under the given folder,
// and with --report prints the brotli transfer size of the front end (wasm + js + css).
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join, extname } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const [root, flag] = process.argv.slice(2);
// Budgets guard against regressions, per bundle, each counted as what one page downloads
// (wasm + js + the shared css), each just above its size when it was last lowered. The
// shop's bundle (shop page and chat widget) is what the shop page loads: 351,100 B before
// issue 15, 252,072 B after a first round (`--cfg erase_components` on server and wasm
// alike, the returns portal in a bundle of its own, resources decoded by the same
// serde_json reader as server functions, no Unicode case tables), 160,834 B after the
// second (the bundle hydrates only the chat widget and runs the category filter as DOM
// code, `app::shop_bundle`; the chat's forms without `ActionForm`); the goal was 200 KiB.
// The returns portal's bundle hydrates the whole app with the shop's pages and the
// portal's (/returns pages); the console's holds every page and is only sent on /staff
// pages.
const bundles = [
  { name: "shop", files: ["gapless_bg.wasm", "gapless.js", "gapless.css"], budget: 160 * 1024 },
  { name: "returns", files: ["gapless_returns_bg.wasm", "gapless_returns.js", "gapless.css"], budget: 252 * 1024 },
  { name: "staff", files: ["gapless_staff_bg.wasm", "gapless_staff.js", "gapless.css"], budget: 348 * 1024 },
];
const exts = new Set([".js", ".wasm", ".css", ".svg", ".html"]);

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (exts.has(extname(name))) yield path;
  }
}

const brotli = (data) =>
  brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });

if (flag === "--report") {
  let over = false;
  for (const bundle of bundles) {
    let total = 0;
    console.log(`${bundle.name} bundle:`);
    for (const name of bundle.files) {
      const data = readFileSync(join(root, "pkg", name));
      const size = brotli(data).length;
      total += size;
      console.log(`  ${name.padEnd(24)} ${String(data.length).padStart(9)} B raw ${String(size).padStart(8)} B brotli`);
    }
    console.log(`  ${"total".padEnd(24)} ${" ".repeat(15)} ${String(total).padStart(8)} B brotli (budget ${bundle.budget} B)`);
    if (total > bundle.budget) {
      console.error(`the ${bundle.name} bundle is ${total} B brotli, over its ${bundle.budget} B budget`);
      over = true;
    }
  }
  if (over) process.exit(1);
} else {
  for (const path of files(root)) {
    const data = readFileSync(path);
    writeFileSync(`${path}.br`, brotli(data));
    writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  }
}
