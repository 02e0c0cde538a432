// Writes .br and .gz next to every js, wasm, css and svg file under the given folder,
// and with --report prints the brotli transfer size of the front end (wasm + js + css).
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join, extname } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const [root, flag] = process.argv.slice(2);
// The budget guards against regressions; it was raised from 200 KiB as the chat widget,
// the returns portal and the staff console arrived (186,812 -> 335,933 -> 401,812 B):
// every page is compiled into the one bundle, mostly tachys view code and one serde_json
// deserializer per resource and server-function type. Next: keep the portal's and the
// console's code off the shop page (islands or lazy routes); `--cfg erase_components` on
// the wasm alone cut 13 % but broke hydration (the server must be built with it too).
const budget = 420 * 1024;
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
  let total = 0;
  for (const name of ["gapless_bg.wasm", "gapless.js", "gapless.css"]) {
    const data = readFileSync(join(root, "pkg", name));
    const size = brotli(data).length;
    total += size;
    console.log(`${name.padEnd(18)} ${String(data.length).padStart(9)} B raw ${String(size).padStart(8)} B brotli`);
  }
  console.log(`${"total".padEnd(18)} ${" ".repeat(15)} ${String(total).padStart(8)} B brotli (budget ${budget} B)`);
  if (total > budget) {
    console.error(`front end is ${total} B brotli, over the ${budget} B budget`);
    process.exit(1);
  }
} else {
  for (const path of files(root)) {
    const data = readFileSync(path);
    writeFileSync(`${path}.br`, brotli(data));
    writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  }
}
