import { test, expect } from "@playwright/test";

// A confirmed order placed through the JSON chat API, as any channel would.
async function placeOrder(request, items, email) {
  const { id } = await (await request.post("/api/v1/conversations")).json();
  const say = async (text) => {
    const response = await request.post(`/api/v1/conversations/${id}/messages`, { data: { text } });
    expect(response.ok()).toBeTruthy();
    return response.json();
  };
  await say(items);
  await say(`my name is Ana Ruiz, ${email}`);
  await say("ship to 12 Main St, Springfield, 62701, US");
  await say("confirm");
  const done = await say("yes");
  expect(done.order.status).toBe("confirmed");
  return done.order;
}

async function findOrder(page, number, email) {
  await page.getByLabel("Order number").fill(number);
  await page.getByLabel("Email").first().fill(email);
  await page.getByRole("button", { name: "Find my order" }).click();
}

test("a customer returns a tee and sees the decision and the status page", async ({ page, request }) => {
  const order = await placeOrder(request, "two black tees in M and a yellow rain jacket in m", "ana@example.com");
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto("/returns");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  // A wrong email tells nothing about the order.
  await findOrder(page, order.number, "eve@example.com");
  await expect(page.getByRole("alert")).toContainText("could not find");

  await findOrder(page, order.number, "ana@example.com");
  await expect(page.locator(".order-number")).toHaveText(order.number);
  const jacket = page.locator(".return-line", { hasText: "rain jacket" });
  await expect(jacket).toContainText("final-sale purchase");
  const tee = page.locator(".return-line", { hasText: "tee" });
  await tee.getByLabel("Quantity").selectOption("1");
  await tee.getByLabel("Reason").selectOption({ label: "Too small" });
  await page.getByRole("button", { name: "Request the return" }).click();

  await expect(page).toHaveURL(/\/returns\/R-[A-Z0-9]+$/);
  await expect(page.locator(".return-status")).toHaveText("Approved");
  await expect(page.locator(".return-item")).toContainText("1 × tee");
  await expect(page.locator(".timeline li")).toHaveCount(2);
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the portal works with plain form posts", async ({ page, request }) => {
    const order = await placeOrder(request, "a trail bottle", "bo@example.com");
    await page.goto("/returns");
    await findOrder(page, order.number, "bo@example.com");
    await expect(page.locator(".order-number")).toHaveText(order.number);
    const bottle = page.locator(".return-line", { hasText: "trail bottle" });
    await bottle.getByLabel("Quantity").selectOption("1");
    await bottle.getByLabel("Reason").selectOption({ label: "Changed my mind" });
    await page.getByRole("button", { name: "Request the return" }).click();
    await expect(page).toHaveURL(/\/returns\/R-[A-Z0-9]+$/);
    await expect(page.locator(".return-status")).toHaveText("Approved");
  });
});

test("a customer exchanges a tee for another size", async ({ page, request }) => {
  const order = await placeOrder(request, "two black tees in M", "cy@example.com");
  await page.goto("/returns");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await findOrder(page, order.number, "cy@example.com");
  const tee = page.locator(".return-line", { hasText: "tee" });
  await tee.getByLabel("Quantity").selectOption("1");
  await tee.getByLabel("Reason").selectOption({ label: "Too small" });
  // XL costs more, so only S and L are offered for the size.
  const size = tee.getByLabel("size", { exact: true });
  await expect(size.locator("option")).toHaveText(["Keep m", "s", "l"]);
  // Asking for an exchange without saying for what gets a sentence, not an error code.
  await page.getByLabel("Exchange for another size or colour").check();
  await page.getByRole("button", { name: "Request the return" }).click();
  await expect(page.getByRole("alert")).toHaveText("Choose the size or colour of the tee you would like instead.");
  await size.selectOption("l");
  await page.getByRole("button", { name: "Request the return" }).click();

  await expect(page).toHaveURL(/\/returns\/R-[A-Z0-9]+$/);
  await expect(page.locator(".return-status")).toHaveText("Approved");
  await expect(page.locator(".item-exchange")).toHaveText("Exchanging for: size l, color black");
});

test("the portal fits a 360 px phone screen", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/returns");
  await expect(page.getByRole("heading", { name: "Start a return" })).toBeVisible();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
});

test("the shop page does not load the portal; its Returns link opens the portal with its own bundle", async ({ page }) => {
  const wasm = [];
  page.on("request", (request) => request.url().endsWith(".wasm") && wasm.push(new URL(request.url()).pathname));
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  expect(wasm).toEqual(["/pkg/gapless_bg.wasm"]);

  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Returns" }).click();
  await expect(page).toHaveURL(/\/returns$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("heading", { name: "Start a return" })).toBeVisible();
  expect(wasm).toEqual(["/pkg/gapless_bg.wasm", "/pkg/gapless_returns_bg.wasm"]);

  // Back to the shop from the portal: the portal's bundle has the shop's pages too.
  await page.getByRole("link", { name: "Gapless Outfitters" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Shop" })).toBeVisible();
  expect(errors).toEqual([]);
});
