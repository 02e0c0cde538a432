// Payments (CONTRACTS §8) in the browser: a second server with GAPLESS_PAYMENTS=stripe,
// talking to a fake Stripe on loopback that speaks Stripe's wire format (form-encoded
// requests, Stripe's JSON, signed webhooks). The widget shows the "Pay now" button for a
// confirmed order, and the chat knows when Stripe says it was paid.
import { test, expect } from "@playwright/test";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SECRET_KEY = "sk_test_e2e";
const WEBHOOK_SECRET = "whsec_e2e";

/** A fake Stripe: Checkout Sessions as Stripe answers them, and the calls it got. */
async function fakeStripe() {
  const calls = [];
  const sessions = new Map();
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      calls.push({ path: request.url, form, key: request.headers["idempotency-key"] });
      response.setHeader("content-type", "application/json");
      if (request.headers.authorization !== `Bearer ${SECRET_KEY}`) {
        response.statusCode = 401;
        return response.end(JSON.stringify({ error: { type: "invalid_request_error" } }));
      }
      if (request.method === "POST" && request.url === "/v1/checkout/sessions") {
        let total = 0;
        for (let i = 0; form.has(`line_items[${i}][price_data][unit_amount]`); i++) {
          total +=
            Number(form.get(`line_items[${i}][price_data][unit_amount]`)) *
            Number(form.get(`line_items[${i}][quantity]`));
        }
        const id = `cs_test_e2e_${sessions.size + 1}`;
        const session = {
          id,
          object: "checkout.session",
          mode: form.get("mode"),
          client_reference_id: form.get("client_reference_id"),
          amount_total: total,
          currency: form.get("line_items[0][price_data][currency]"),
          expires_at: Number(form.get("expires_at")),
          status: "open",
          payment_status: "unpaid",
          payment_intent: null,
          url: `http://127.0.0.1:${server.address().port}/pay/${id}`,
        };
        sessions.set(id, session);
        return response.end(JSON.stringify(session));
      }
      response.statusCode = 404;
      response.end(JSON.stringify({ error: { type: "invalid_request_error" } }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, calls, sessions, base: `http://127.0.0.1:${server.address().port}` };
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** `gapless serve` with Stripe on, on its own database; resolves once it answers. */
async function payingServer(stripeBase) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gapless-e2e-pay-"));
  const child = spawn(join(root, "target/gapless"), ["serve"], {
    cwd: join(root, "end2end"),
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${join(dir, "pay.db")}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.E2E_SITE_ROOT ?? join(root, "target/site"),
      GAPLESS_CATALOG: join(root, "demo/catalog.json"),
      GAPLESS_RETURN_POLICY: join(root, "demo/return-policy.json"),
      GAPLESS_PAYMENTS: "stripe",
      STRIPE_API_BASE: stripeBase,
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GAPLESS_PAYMENT_RETURN_URL: `http://127.0.0.1:${port}/`,
      GAPLESS_PAYMENT_SWEEP_SECONDS: "0",
      RUST_LOG: "warn",
    },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`gapless serve exited: ${stderr}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`gapless serve did not answer: ${stderr}`);
}

/** Stripe's `checkout.session.completed` for `session`, signed as Stripe signs. */
async function stripeSaysPaid(base, session) {
  const event = {
    id: `evt_e2e_${session.id}`,
    object: "event",
    type: "checkout.session.completed",
    data: {
      object: { ...session, status: "complete", payment_status: "paid", payment_intent: "pi_e2e_1" },
    },
  };
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex");
  return fetch(`${base}/api/v1/payments/stripe/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
    body,
  });
}

async function say(page, text) {
  const log = page.getByRole("log", { name: "Conversation" });
  const replies = await log.locator(".msg-assistant").count();
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.fill(text);
  await input.press("Enter");
  await expect(log.locator(".msg-assistant")).toHaveCount(replies + 1);
  await expect(input).toHaveValue("");
  return log.locator(".msg-assistant").last();
}

test("a confirmed order shows a Pay now button, and the chat hears when it is paid", async ({ page }) => {
  const stripe = await fakeStripe();
  const app = await payingServer(stripe.base);
  try {
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${app.base}/`);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const launcher = page.getByRole("button", { name: "Order by chat" });
    if (await launcher.isVisible()) await launcher.click();

    await say(page, "two black tees in M");
    await say(page, "my name is Ana Ruiz, ana@example.com");
    await say(page, "ship to 12 Main St, Springfield, 62701, US");
    await say(page, "confirm");
    const panel = page.getByRole("region", { name: /Your order/ });
    await expect(panel.getByRole("link", { name: "Pay now" })).toHaveCount(0);
    const placed = await say(page, "yes");

    // Stripe was asked once, for the stored order at the catalog's prices.
    const asked = stripe.calls.filter((c) => c.path === "/v1/checkout/sessions");
    expect(asked).toHaveLength(1);
    expect(asked[0].form.get("line_items[0][price_data][unit_amount]")).toBe("2500");
    expect(asked[0].form.get("line_items[0][quantity]")).toBe("2");
    expect(asked[0].key).toMatch(/^gapless-checkout-/);
    const session = [...stripe.sessions.values()][0];

    await expect(panel.locator(".order-status")).toHaveText("confirmed");
    await expect(panel.locator(".order-payment")).toHaveText("Payment: pending");
    const pay = panel.getByRole("link", { name: "Pay now" });
    await expect(pay).toBeVisible();
    await expect(pay).toHaveAttribute("href", session.url);
    await expect(pay).toHaveAttribute("rel", /noopener/);
    await expect(placed).toContainText(session.url);

    // Stripe says it was paid: the next answer knows, and the button is gone.
    expect((await stripeSaysPaid(app.base, session)).status).toBe(200);
    const answer = await say(page, "did my payment go through?");
    await expect(answer).toContainText("Yes, your payment of $50.00 went through.");
    await expect(panel.locator(".order-payment")).toHaveText("Payment: paid");
    await expect(panel.getByRole("link", { name: "Pay now" })).toHaveCount(0);
    expect(errors).toEqual([]);
  } finally {
    app.child.kill();
    stripe.server.close();
  }
});
