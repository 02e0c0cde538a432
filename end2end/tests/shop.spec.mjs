import { test, expect } from "@playwright/test";

// The wasm must have taken over before a click means anything.
async function openShop(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return errors;
}

test("the shop page lists products and hydrates", async ({ page }) => {
  const errors = await openShop(page);
  await expect(page).toHaveTitle("Shop · Gapless");
  const cards = page.locator("li.product");
  expect(await cards.count()).toBeGreaterThanOrEqual(30);
  await expect(page.getByRole("heading", { level: 1, name: "Shop" })).toBeVisible();
  // The shop's bundle hydrates the chat widget alone, in a fresh hydration context: its
  // resource must be the page's first serialized one (app/src/shop.rs, ShopPage).
  const first = await page.evaluate(() => JSON.parse(window.__RESOLVED_RESOURCES[0]));
  expect(Object.keys(first.Ok)).toContain("messages");
  expect(errors).toEqual([]);
});

test("the category filter works after hydration", async ({ page }) => {
  await openShop(page);
  const total = await page.locator("li.product").count();
  const apparel = page.getByRole("button", { name: "Apparel" });
  await apparel.click();
  await expect(apparel).toHaveAttribute("aria-pressed", "true");

  const visible = page.locator("li.product:visible");
  const shown = await visible.count();
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBeLessThan(total);
  for (const category of await visible.evaluateAll((els) => els.map((e) => e.dataset.category))) {
    expect(category).toBe("Apparel");
  }
  await expect(page.locator(".result-count")).toHaveText(`Showing ${shown} of ${total} products`);

  await page.getByRole("button", { name: "All" }).click();
  await expect(page.locator("li.product:visible")).toHaveCount(total);
});

test("the page fits a 360 px phone screen", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await openShop(page);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
  await page.screenshot({ path: "test-results/shop-360.png", fullPage: false });
});

test("an unknown page is a 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response.status()).toBe(404);
  await expect(page).toHaveTitle("Page not found · Gapless");
  await page.getByRole("link", { name: "Back to the shop" }).click();
  await expect(page).toHaveTitle("Shop · Gapless");
});
