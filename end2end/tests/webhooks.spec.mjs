import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const gapless = fileURLToPath(new URL("../../target/gapless", import.meta.url));
const PASSWORD = "correct horse battery staple";

function addStaff(email, role) {
  execFileSync(gapless, ["staff", "add", email, "--role", role], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "warn" },
  });
}

/** A loopback receiver that keeps what it gets, with the headers to check signatures. */
async function receiver() {
  const got = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      got.push({ headers: request.headers, body });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { got, server, url: `http://127.0.0.1:${server.address().port}/hook` };
}

function signatureOk(secret, { headers, body }) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`)
    .digest("base64");
  return headers["webhook-signature"].split(" ").includes(`v1,${expected}`);
}

test("an admin adds a webhook endpoint, sees its deliveries, sends a test event and pauses it", async ({ page, request }) => {
  addStaff("e2e-hooks@shop.test", "admin");
  const hook = await receiver();
  try {
    await page.goto("/staff?next=/staff/webhooks");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await page.getByLabel("Email").fill("e2e-hooks@shop.test");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/staff\/webhooks$/);
    await expect(page.getByRole("heading", { name: "Webhooks" })).toBeVisible();
    await expect(page.locator(".empty")).toContainText("No endpoints yet");

    // A typo in the events is refused with the known names, and nothing is added.
    await page.getByLabel("URL").fill(hook.url);
    await page.getByLabel(/^Events/).fill("order.shiped");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByRole("alert")).toContainText("names no event");
    await expect(page.getByRole("alert")).toContainText("shipped, delivered");
    await expect(page.locator(".staff-webhook")).toHaveCount(0);

    await page.getByLabel(/^Events/).fill("order.*");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.locator(".webhook-secret code").textContent()).trim();
    expect(secret).toMatch(/^whsec_/);
    await expect(page.locator(".staff-webhook")).toHaveCount(1);
    await expect(page.locator(".staff-webhook")).toContainText("active · events order.*");

    // An order's events arrive signed, and the console lists them delivered.
    const { id } = await (await request.post("/api/v1/conversations")).json();
    await request.post(`/api/v1/conversations/${id}/messages`, { data: { text: "two black tees in M" } });
    await expect.poll(() => hook.got.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(hook.got.every((message) => signatureOk(secret, message))).toBeTruthy();
    expect(JSON.parse(hook.got[0].body).type).toBe("order.line_added");
    await page.reload();
    await expect(page.locator(".delivery-delivered").first()).toContainText("order.line_added");
    await expect(page.locator(".delivery-delivered").first()).toContainText("HTTP 204");

    // The test event button.
    await page.getByRole("button", { name: "Send a test event" }).click();
    await expect.poll(() => hook.got.some((m) => JSON.parse(m.body).type === "webhook.test"), { timeout: 10_000 }).toBeTruthy();

    // Pause: the endpoint says so and offers Resume.
    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page.locator(".staff-webhook")).toContainText("paused");
    await expect(page.getByRole("button", { name: "Resume" })).toBeVisible();
    await page.getByRole("button", { name: "Remove" }).click();
    await expect(page.locator(".staff-webhook")).toHaveCount(0);
  } finally {
    hook.server.close();
  }
});

test("an agent is told that webhooks are for admins", async ({ page }) => {
  addStaff("e2e-hooks-agent@shop.test", "agent");
  await page.goto("/staff?next=/staff/webhooks");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill("e2e-hooks-agent@shop.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff\/webhooks$/);
  await expect(page.getByText("only an admin can manage webhooks")).toBeVisible();
});
