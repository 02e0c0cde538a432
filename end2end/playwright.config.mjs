// End-to-end tests in Debian's chromium (no browser download), against the release
// build that `make build` leaves in target/ and a throwaway SQLite database.
import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const port = process.env.E2E_PORT ?? "3107";
// Workers load this file again: keep the first process's folder, so that tests reach the
// server's database (e.g. to add a staff account with the CLI).
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gapless-e2e-"));
process.env.E2E_DATABASE_URL = `sqlite://${join(process.env.E2E_DATA_DIR, "e2e.db")}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    trace: "retain-on-failure",
    launchOptions: {
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
    },
  },
  webServer: {
    command: "../target/gapless serve",
    cwd: ".",
    url: `http://127.0.0.1:${port}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      DATABASE_URL: process.env.E2E_DATABASE_URL,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.E2E_SITE_ROOT ?? "../target/site",
      GAPLESS_CATALOG: "../demo/catalog.json",
      GAPLESS_RETURN_POLICY: "../demo/return-policy.json",
      RUST_LOG: "warn",
    },
  },
});
