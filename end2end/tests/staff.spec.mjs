import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const gapless = fileURLToPath(new URL("../../target/gapless", import.meta.url));
const PASSWORD = "correct horse battery staple";

function addStaff(email, role = "agent") {
  execFileSync(gapless, ["staff", "add", email, "--role", role], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "warn" },
  });
}

async function chat(request, texts) {
  const { id } = await (await request.post("/api/v1/conversations")).json();
  let last;
  for (const text of texts) {
    const response = await request.post(`/api/v1/conversations/${id}/messages`, { data: { text } });
    expect(response.ok()).toBeTruthy();
    last = await response.json();
  }
  return last;
}

test("staff sign in, find a conversation by a word, read its timeline, filter, export CSV and approve and receive a return", async ({ page, request }) => {
  // An admin: this test also downloads the audit log, which agents may not.
  addStaff("e2e-agent@shop.test", "admin");
  await chat(request, ["hi, do you have wombat socks? two wool socks please"]);
  const done = await chat(request, [
    "two black tees in M",
    "my name is Ana Ruiz, review@example.com",
    "ship to 12 Main St, Springfield, 62701, US",
    "confirm",
    "yes",
  ]);
  const created = await (
    await request.post("/api/v1/returns", {
      data: {
        order_number: done.order.number, email: "review@example.com", resolution: "refund",
        items: [{ line: 0, quantity: 1, reason: "damaged", comment: "torn seam" }],
      },
    })
  ).json();
  expect(created.status).toBe("in_review");

  // Signed out, a staff page sends the browser to sign in, and back after it.
  await page.goto("/staff/conversations");
  await expect(page).toHaveURL(/\/staff\?next=\/staff\/conversations$/);
  await expect(page.locator(".conversation-row")).toHaveCount(0);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill("e2e-agent@shop.test");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/staff\/conversations$/);

  await page.getByLabel("Words the shopper typed").fill("wombat");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.locator(".conversation-row")).toHaveCount(1);
  await page.locator(".conversation-row a").click();
  const turn = page.locator(".turn").first();
  await expect(turn).toContainText("wombat socks");
  await expect(turn.locator(".turn-event").first()).toContainText("#1 line_added");
  await turn.getByText("Validation").click();

  // Filters: outcome and order number (any case), then the CSV of the same dates.
  await page.goto("/staff/conversations");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Outcome").selectOption("ordered");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/outcome=ordered/);
  // Other tests order too: every row listed is ordered, ours among them.
  const rows = page.locator(".conversation-row");
  await expect(rows.locator("td:nth-child(2)").filter({ hasNotText: "ordered" })).toHaveCount(0);
  await expect(rows.filter({ hasText: done.order.number })).toHaveCount(1);
  await page.goto(`/staff/conversations?order=${done.order.number.toLowerCase()}`);
  await expect(page.locator(".conversation-row")).toHaveCount(1);
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`/staff/conversations?from=${today}`);
  const csvLink = page.getByRole("link", { name: "Download CSV" });
  await expect(csvLink).toHaveAttribute("href", `/api/v1/staff/audit.csv?from=${today}`);
  const csv = await page.request.get(await csvLink.getAttribute("href"));
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  expect(await csv.text()).toContain("wombat socks");

  await page.goto("/staff/returns");
  const row = page.locator(`.staff-return[data-rma="${created.rma}"]`);
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Approve" }).click();
  await expect(row).toHaveCount(0);
  const status = await (await request.get(`/api/v1/returns/${created.rma}`, { headers: { "Customer-Email": "review@example.com" } })).json();
  expect(status.status).toBe("approved");

  // The parcel arrives: a damaged item is discarded by default, staff put it back on sale.
  await page.goto("/staff/returns?status=approved");
  const approved = page.locator(`.staff-return[data-rma="${created.rma}"]`);
  await approved.getByLabel("Items").selectOption("restock");
  await approved.getByRole("button", { name: "Record receipt" }).click();
  await expect(approved).toHaveCount(0);
  const received = await (await request.get(`/api/v1/returns/${created.rma}?email=review@example.com`)).json();
  expect(received.status).toBe("received");
  expect(received.items[0].disposition).toBe("restock");

  // The dashboard draws its charts on the server; each figure links to its rows.
  await page.goto("/staff/metrics");
  await expect(page.locator(".chart svg[role=img]")).toHaveCount(4);
  const conversion = page.locator(".figure", { hasText: "Conversion to a confirmed order" });
  await expect(conversion.locator(".figure-detail")).toContainText(/\d+ of \d+/);
  if (process.env.E2E_SCREENSHOTS) await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/metrics.png`, fullPage: true });
});

test("a shopper asks for a person and reads the staff reply in the widget", async ({ browser }) => {
  addStaff("e2e-handoff@shop.test");
  const shopper = await (await browser.newContext()).newPage();
  await shopper.goto("/");
  await expect(shopper.locator("body")).toHaveAttribute("data-hydrated", "true");
  await shopper.getByRole("button", { name: "Order by chat" }).click();
  await shopper.getByLabel("Your message").fill("can I talk to a human please");
  await shopper.getByRole("button", { name: "Send" }).click();
  await expect(shopper.locator(".msg-shopper")).toContainText("talk to a human");

  const staff = await (await browser.newContext()).newPage();
  await staff.goto("/staff/handoffs");
  await expect(staff.locator("body")).toHaveAttribute("data-hydrated", "true");
  await staff.getByLabel("Email").fill("e2e-handoff@shop.test");
  await staff.getByLabel("Password").fill(PASSWORD);
  await staff.getByRole("button", { name: "Sign in" }).click();
  await expect(staff).toHaveURL(/\/staff\/handoffs$/);
  const card = staff.locator(".staff-handoff", { hasText: "can I talk to a human please" }).first();
  await card.getByLabel("Reply to the shopper").fill("Hi, this is Ana from the shop. How can I help?");
  await card.getByRole("button", { name: "Send reply" }).click();
  await expect(staff.getByText("Reply sent.")).toBeVisible();

  // The widget looks for staff replies on its own once the chat is handed off.
  await expect(shopper.locator(".msg-staff")).toContainText("Ana from the shop", { timeout: 15000 });
});
