import { test, expect } from "@playwright/test";

// The wasm must have taken over before a click means anything.
async function openChat(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const launcher = page.getByRole("button", { name: "Order by chat" });
  if (await launcher.isVisible()) await launcher.click();
  await expect(page.getByRole("heading", { name: "Order by chat" })).toBeVisible();
  return errors;
}

async function say(page, text) {
  const log = page.getByRole("log", { name: "Conversation" });
  const replies = await log.locator(".msg-assistant").count();
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.fill(text);
  await input.press("Enter");
  // One more reply, and the input is free for the next message.
  await expect(log.locator(".msg-assistant")).toHaveCount(replies + 1);
  await expect(input).toHaveValue("");
}

test("a shopper goes from a first message to a confirmed order", async ({ page }) => {
  const errors = await openChat(page);
  await say(page, "hi, two black tees in M and a trail bottle");

  const panel = page.getByRole("region", { name: /Your order/ });
  const lines = panel.locator(".order-line");
  await expect(lines).toHaveCount(2);
  await expect(lines.nth(0)).toContainText("2 × tee");
  await expect(lines.nth(0)).toContainText("size: m, color: black");
  await expect(lines.nth(1)).toContainText("1 × trail bottle");
  await expect(panel.locator(".order-total")).toHaveText("$74.00");
  await expect(panel.locator(".order-status")).toHaveText("draft");

  await say(page, "my name is Ana Ruiz, ana@example.com");
  await say(page, "ship to 12 Main St, Springfield, 62701, US");
  await expect(panel.locator(".order-address")).toContainText("12 Main St");

  // The quick replies send what a shopper could type: a summary first, then the order.
  const log = page.getByRole("log", { name: "Conversation" });
  await page.getByRole("button", { name: "Confirm order" }).click();
  await expect(log.locator(".msg-shopper").last()).toContainText("confirm");
  await expect(log.locator(".msg-assistant")).toHaveCount(5);
  await expect(panel.locator(".order-status")).toHaveText("draft");
  await page.getByRole("button", { name: "Confirm order" }).click();
  await expect(panel.locator(".order-status")).toHaveText("confirmed");
  // Nothing left to confirm or cancel.
  await expect(page.getByRole("button", { name: "Confirm order" })).toBeHidden();
  const number = await panel.locator(".order-number").textContent();
  expect(number).toMatch(/^G-\d+$/);

  // The conversation is bound to the session: a reload shows it again, open.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("heading", { name: "Order by chat" })).toBeVisible();
  await expect(log.locator(".msg-shopper")).toHaveCount(5);
  await expect(panel.locator(".order-number")).toHaveText(number);
  await expect(panel.locator(".order-status")).toHaveText("confirmed");
  expect(errors).toEqual([]);
});

test("a message the shop cannot take gets a clear error and keeps the chat usable", async ({ page }) => {
  await openChat(page);
  const input = page.getByRole("textbox", { name: "Your message" });
  await input.fill("   ");
  await input.press("Enter");
  await expect(page.getByRole("alert")).toHaveText("Please type a message first.");
  await say(page, "a diet coke");
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("the chat works from the keyboard and fits a 360 px phone", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const launcher = page.getByRole("button", { name: "Order by chat" });
  await expect(launcher).toHaveAttribute("aria-expanded", "false");
  await launcher.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("button", { name: "Close chat" }).first()).toHaveAttribute(
    "aria-expanded",
    "true",
  );
  await page.getByRole("textbox", { name: "Your message" }).focus();
  await page.keyboard.type("a coke");
  await page.keyboard.press("Enter");
  await expect(page.locator(".order-line")).toHaveCount(1);

  const box = await page.locator(".chat-panel").boundingBox();
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(360);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
  await page.screenshot({ path: "test-results/chat-360.png" });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  // The widget's forms are plain posts to the server function, which sends the browser
  // back to the page; the panel is open once there is a conversation.
  test("the chat's forms post and the page shows the answer", async ({ page }) => {
    await page.goto("/");
    await page.request.post("/api/chat/send", {
      form: { text: "hi", key: "0" },
      headers: { Referer: new URL("/", page.url()).href },
    });
    await page.goto("/");
    const log = page.getByRole("log", { name: "Conversation" });
    await expect(log.locator(".msg-shopper")).toHaveCount(1);
    const input = page.getByRole("textbox", { name: "Your message" });
    await input.fill("a diet coke");
    await input.press("Enter");
    await expect(log.locator(".msg-shopper")).toHaveCount(2);
    await expect(page.locator(".order-line")).toHaveCount(1);
    await expect(page.locator("li.product").first()).toBeVisible();
  });
});
