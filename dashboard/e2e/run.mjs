// End-to-end test of the dashboard in a real headless Chromium, against a
// running router. tests/e2e/test_dashboard_browser.py starts the router on a
// generated database and runs this script; it can also be run by hand:
//
//   BASE_URL=http://127.0.0.1:8001 ADMIN_KEY=mr-... USER_KEY=mr-... \
//   ARTIFACTS=/tmp/shots node e2e/run.mjs
//
// Every check compares what the page shows with what the API answers. The
// script exits 1 on the first failed check; screenshots of each page go to
// ARTIFACTS. KEYS_API=1 also exercises the admin keys page (create, revoke).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Decimal from "decimal.js";
import { chromium } from "playwright-core";

const BASE = process.env.BASE_URL;
const ADMIN_KEY = process.env.ADMIN_KEY;
const USER_KEY = process.env.USER_KEY;
const ARTIFACTS = process.env.ARTIFACTS ?? "e2e-artifacts";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const KEYS_API = process.env.KEYS_API === "1";
if (!BASE || !ADMIN_KEY || !USER_KEY) {
  console.error("BASE_URL, ADMIN_KEY and USER_KEY are required");
  process.exit(2);
}

mkdirSync(ARTIFACTS, { recursive: true });
const passed = [];

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  passed.push(message);
  console.log(`ok - ${message}`);
}

function equal(actual, expected, message) {
  check(actual === expected, `${message} (page: ${JSON.stringify(actual)}, API: ${JSON.stringify(expected)})`);
}

// Money fields stay exact strings, as the dashboard reads them.
const MONEY_KEY = /"([A-Za-z0-9_]*(?:_usd|_per_1m_tokens))"(\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
async function apiGet(key, path, params = {}) {
  const url = new URL(path, BASE);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  const response = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text.replace(MONEY_KEY, '"$1"$2"$3"'));
}

function today() {
  return new Date().toISOString().slice(0, 10);
}
function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// launch() gives every run a fresh, temporary profile (user-data-dir).
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const pageErrors = [];

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    // expected 401/404 answers log "Failed to load resource"; anything else is a bug
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
  });
  return page;
}

async function shot(page, name) {
  await page.waitForTimeout(400); // charts animate in
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function signIn(page, key) {
  await page.goto("/dashboard/");
  const input = page.getByTestId("signin-key");
  await input.waitFor();
  check(await input.evaluate((el) => el === document.activeElement), "the key field has focus on the sign-in page");
  await input.fill(key);
  await page.keyboard.press("Enter"); // the form submits from the keyboard
  await page.getByTestId("whoami").waitFor();
}

async function stat(page, id) {
  const el = page.getByTestId(id);
  await el.waitFor();
  return { exact: await el.getAttribute("data-exact"), text: (await el.textContent()).trim() };
}

async function waitIdle(page) {
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector(".state-loading"));
}

async function overviewMatches(page, key, params, label) {
  const usage = await apiGet(key, "/v1/analytics/usage", params);
  await eventually(async () => Number((await stat(page, "stat-requests")).exact), usage.total_requests, `${label}: requests equal the usage API's`);
  await waitIdle(page);
  const cost = await stat(page, "stat-cost");
  equal(cost.exact, usage.total_cost_usd, `${label}: total cost equals the usage API's, exactly`);
  const requests = await stat(page, "stat-requests");
  equal(requests.text, usage.total_requests.toLocaleString("en-US"), `${label}: requests are shown grouped`);
  const latency = await stat(page, "stat-latency");
  equal(latency.exact, usage.average_latency_ms === null ? "" : String(usage.average_latency_ms), `${label}: average latency equals the API's`);
  const success = await stat(page, "stat-success");
  equal(Number(success.exact), usage.success_rate_percent, `${label}: success rate equals the API's`);
  return usage;
}

// The page settles asynchronously after a click: read until it shows what the
// API says (or 10 s pass), then compare, so a wrong value still fails.
async function eventually(read, expected, message) {
  const deadline = Date.now() + 10_000;
  let actual = await read();
  while (actual !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    actual = await read();
  }
  equal(actual, expected, message);
  return actual;
}

async function firstRow(page) {
  return (await rowIds(page))[0];
}

async function tableTotal(page) {
  await waitIdle(page);
  const total = page.getByTestId("requests-total");
  if (!(await total.count())) {
    await page.getByTestId("empty").waitFor();
    return 0;
  }
  return Number(await total.getAttribute("data-total"));
}

async function rowIds(page) {
  return page.locator("[data-testid=requests-table] tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.requestId));
}

try {
  // --- a bad key, and the server down ------------------------------------------------
  {
    const page = await newPage();
    await page.goto("/dashboard/");
    await page.getByTestId("signin-key").fill("mr-not-a-real-key");
    await page.getByTestId("signin-submit").click();
    const error = page.getByTestId("signin-error");
    await error.waitFor();
    check((await error.textContent()).includes("not accepted"), "a bad key shows a readable error");
    check((await page.getByTestId("whoami").count()) === 0, "a bad key does not sign in");
    await shot(page, "01-sign-in-bad-key");

    await page.route("**/v1/**", (route) => route.abort("connectionrefused"));
    await page.getByTestId("signin-key").fill(ADMIN_KEY);
    await page.getByTestId("signin-submit").click();
    await page.getByText("Cannot reach the router").waitFor();
    check(true, "the server down shows 'Cannot reach the router'");
    await shot(page, "02-sign-in-server-down");
    await page.context().close();
  }

  // --- the admin: overview ---------------------------------------------------------------
  const page = await newPage();
  await signIn(page, ADMIN_KEY);
  check((await page.getByTestId("whoami").textContent()).length > 0, "an admin key signs in");
  await overviewMatches(page, ADMIN_KEY, { days: 7 }, "overview, 7 d");
  await shot(page, "03-overview-7d");

  await page.getByRole("button", { name: "30 d" }).click();
  const usage30 = await overviewMatches(page, ADMIN_KEY, { days: 30 }, "overview, 30 d");
  check(usage30.total_requests > 0, "the generated traffic is visible");
  check((await page.locator(".recharts-surface").count()) >= 4, "the overview draws its four charts");
  check((await page.getByTestId("by-model").locator("tbody tr").count()) === usage30.by_model.length, "the by-model table lists every model");
  await shot(page, "04-overview-30d");

  // a custom range: the 10 days ending 3 days ago
  const end = addDays(today(), -3);
  const start = addDays(end, -9);
  await page.getByRole("button", { name: "Custom" }).click();
  await page.getByLabel("From", { exact: true }).fill(start);
  await page.getByLabel("To", { exact: true }).fill(end);
  await page.getByRole("button", { name: "Apply" }).click();
  await overviewMatches(page, ADMIN_KEY, { days: 10, end_date: end }, "overview, custom range");
  await shot(page, "05-overview-custom");

  // an admin picks one key
  const users = (await apiGet(ADMIN_KEY, "/v1/analytics/users")).users;
  const busy = users.find((u) => u.name === "demo-1") ?? users[0];
  await page.getByRole("button", { name: "30 d" }).click();
  await page.getByTestId("user-picker").selectOption(busy.id);
  await overviewMatches(page, ADMIN_KEY, { days: 30, user_id: busy.id }, `overview for ${busy.name}`);
  await page.getByTestId("user-picker").selectOption("");

  // --- requests: filters, sorting, pagination, detail ----------------------------------------
  await page.getByRole("link", { name: "Requests" }).click();
  const window30 = { start_date: addDays(today(), -29), end_date: today() };
  const all = await tableTotal(page);
  equal(all, (await apiGet(ADMIN_KEY, "/v1/analytics/requests", window30)).total, "the table counts what the API counts");
  const firstPage = await rowIds(page);
  equal(firstPage.length, Math.min(20, all), "a page holds 20 rows");
  await shot(page, "06-requests");

  await page.getByTestId("next-page").click();
  const page2 = await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, page: 2 });
  await eventually(() => firstRow(page), page2.requests[0].id, "the next page starts where the API's page 2 does");
  const secondPage = await rowIds(page);
  check(secondPage.length > 0 && !secondPage.some((id) => firstPage.includes(id)), "the next page shows other rows");
  equal((await page.getByTestId("page-info").textContent()).startsWith("Page 2"), true, "the pager says page 2");

  await page.getByTestId("filter-status").selectOption("error");
  const errors = await eventually(() => tableTotal(page), (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, status: "error" })).total, "the status filter counts what the API counts");
  check(errors > 0 && errors < all, "the status filter narrows the table");
  const statuses = await page.locator("[data-testid=requests-table] tbody .badge").allTextContents();
  check(statuses.every((s) => s === "error"), "only failed requests are listed");
  await shot(page, "07-requests-errors");

  await page.getByTestId("filter-api").selectOption("chat_completions");
  const chats = (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, status: "error", front_door: "chat_completions" })).total;
  await eventually(() => tableTotal(page), chats, "the API filter counts what the API counts");
  const apis = await page.locator("[data-testid=requests-table] tbody td[data-label=API]").allTextContents();
  check(apis.length > 0 && apis.every((a) => a === "Chat"), "the API column says Chat for chat completions");
  await page.getByTestId("filter-api").selectOption("");

  await page.getByTestId("filter-status").selectOption("");
  await page.getByTestId("filter-model").selectOption("gpt-4o-mini");
  const mini = await eventually(() => tableTotal(page), (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, model: "gpt-4o-mini" })).total, "the model filter counts what the API counts");
  check(mini > 0 && mini < all, "the model filter narrows the table");

  await page.getByTestId("filter-model").selectOption("");
  await page.getByTestId("filter-search").fill("sql");
  const sql = await eventually(() => tableTotal(page), (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, search: "sql" })).total, "the search counts what the API counts");
  check(sql > 0 && sql < all, "the search narrows the table");
  await page.getByRole("button", { name: "Clear filters" }).click();
  await eventually(() => tableTotal(page), all, "clearing the filters shows every request again");

  await page.getByTestId("filter-tags").fill("team=browser");
  const tagged = await eventually(() => tableTotal(page), (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, tag: "team=browser" })).total, "the tag filter counts what the API counts");
  check(tagged > 0 && tagged < all, "the tag filter narrows the table");
  await page.getByRole("button", { name: "Clear filters" }).click();
  await eventually(() => tableTotal(page), all, "clearing the tag filter shows every request again");

  await page.getByTestId("sort-total_cost_usd").click();
  const byCost = await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, sort: "-total_cost_usd" });
  await eventually(() => firstRow(page), byCost.requests[0].id, "sorting by cost puts the most expensive request first");
  await page.getByTestId("sort-latency_ms").click();
  const byLatency = await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, sort: "-latency_ms" });
  await eventually(() => firstRow(page), byLatency.requests[0].id, "sorting by latency puts the slowest request first");
  await page.getByTestId("sort-latency_ms").click();
  const byLatencyAsc = await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, sort: "latency_ms" });
  await eventually(() => firstRow(page), byLatencyAsc.requests[0].id, "sorting again reverses the order");
  await page.getByTestId("sort-created_at").click();
  await eventually(() => firstRow(page), firstPage[0], "sorting by time again shows the newest first");

  // the detail view, opened from the keyboard
  const failed = (await apiGet(ADMIN_KEY, "/v1/analytics/requests", { ...window30, status: "error", per_page: 1 })).requests[0];
  const first = (await rowIds(page))[0];
  const link = page.locator(`tr[data-request-id="${first}"] a`);
  await link.focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("request-detail").waitFor();
  const detail = await apiGet(ADMIN_KEY, `/v1/analytics/requests/${first}`);
  equal(await page.getByTestId("detail-status").textContent(), detail.status, "the detail view shows the request's status");
  equal(await page.getByTestId("detail-input-tokens").textContent(), detail.input_tokens.toLocaleString("en-US"), "the detail view shows the input tokens");
  equal(
    await page.getByTestId("detail-cost").textContent(),
    detail.total_cost_usd === null ? "unknown" : `$${detail.total_cost_usd}`,
    "the detail view shows the exact cost",
  );
  check(page.url().endsWith(`/dashboard/requests/${first}`), "the detail view has its own URL");
  const lastMessage = detail.request_messages[detail.request_messages.length - 1].content;
  check((await page.locator(".messages").textContent()).includes(lastMessage), "the detail view shows the conversation");
  if (detail.response_text) check((await page.getByTestId("detail-response").textContent()) === detail.response_text, "the detail view shows the response");
  await shot(page, "08-request-detail");

  await page.goto(`/dashboard/requests/${failed.id}`); // a deep link survives a reload
  await page.getByTestId("detail-error").waitFor();
  check((await page.getByTestId("detail-error").textContent()).includes(failed.error_message), "a failed request shows its error");
  await shot(page, "09-request-detail-error");

  await page.goto("/dashboard/requests/00000000-0000-7000-8000-000000000000");
  await page.getByTestId("error").waitFor();
  check((await page.getByTestId("error").textContent()).includes("No request"), "an unknown request id shows a readable error");

  // --- models and the price calculator --------------------------------------------------------
  await page.getByRole("link", { name: "Models" }).click();
  await page.getByTestId("models-table").waitFor();
  const catalogue = await apiGet(ADMIN_KEY, "/v1/analytics/models"); // a bare array
  const mini4o = catalogue.find((m) => m.model_id === "gpt-4o-mini" && m.is_active);
  await page.getByTestId("calc-model").selectOption(mini4o.uuid);
  await page.getByTestId("calc-input").fill("1000000");
  await page.getByTestId("calc-output").fill("1000000");
  const exact = (input, output) =>
    `$${new Decimal(mini4o.input_price_per_1m_tokens).times(input).plus(new Decimal(mini4o.output_price_per_1m_tokens).times(output)).dividedBy(1_000_000).toFixed()}`;
  equal(await page.getByTestId("calc-total").textContent(), exact(1_000_000, 1_000_000), "one million tokens each way cost the input plus the output price");
  await page.getByTestId("calc-input").fill("1,234,567");
  await page.getByTestId("calc-output").fill("7654321");
  equal(await page.getByTestId("calc-total").textContent(), exact(1_234_567, 7_654_321), "the calculator's amount is exact to the last digit");
  await page.getByTestId("models-sort-input_price_per_1m_tokens").click();
  const prices = await page.locator("[data-testid=models-table] tbody tr td:nth-child(3)").allTextContents();
  const known = prices.filter((p) => p.startsWith("$")).map((p) => Number(p.slice(1)));
  check(known.length > 1 && known.every((p, i) => i === 0 || known[i - 1] <= p), "sorting by input price orders the catalogue");
  check(prices.findIndex((p) => !p.startsWith("$")) === -1 || prices.slice(prices.findIndex((p) => !p.startsWith("$"))).every((p) => !p.startsWith("$")), "unknown prices sort last");
  await shot(page, "10-models");

  // --- keys (admin) ------------------------------------------------------------------------------
  await page.getByRole("link", { name: "Keys" }).click();
  if (KEYS_API) {
    await page.getByTestId("keys-table").waitFor();
    await page.getByTestId("key-name").fill("e2e dashboard key");
    await page.getByLabel("Budget (USD)").fill("12.50");
    await page.getByLabel("Requests / minute").fill("60");
    await page.getByTestId("key-create").click();
    const shown = await page.getByTestId("new-key").textContent();
    check(shown.startsWith("mr-"), "a new key is shown once");
    const created = (await apiGet(ADMIN_KEY, "/v1/admin/keys")).data.find((k) => k.name === "e2e dashboard key");
    check(created !== undefined && created.rpm_limit === 60, "the created key exists with its limits");
    const row = page.locator(`tr[data-key-id="${created.id}"]`);
    await row.waitFor();
    check((await row.textContent()).includes("$12.50"), "the key's budget is listed");
    check(created.budget_usd === "12.5" || created.budget_usd === "12.50", `the budget was stored exactly (${created.budget_usd})`);
    await page.getByRole("button", { name: "Edit limits of e2e dashboard key" }).click();
    const limits = page.getByRole("form", { name: "Limits of e2e dashboard key" });
    await limits.getByLabel("Requests / minute").fill("120");
    await limits.getByLabel("Budget (USD)").fill("30");
    await limits.getByRole("button", { name: "Save limits" }).click();
    await row.getByText("120 requests/min").waitFor();
    const edited = await apiGet(ADMIN_KEY, `/v1/admin/keys/${created.id}`);
    check(edited.rpm_limit === 120 && edited.budget_usd === "30", "editing a key's limits from the page changes them");
    const me = await apiGet(ADMIN_KEY, "/v1/analytics/me");
    check((await page.locator(`tr[data-key-id="${me.id}"]`).getByRole("button").count()) === 0, "the signed-in key offers no revoke or edit of itself (the API refuses both)");
    await shot(page, "11-keys-created");
    page.once("dialog", (dialog) => dialog.accept());
    await row.getByRole("button", { name: /Revoke/ }).click();
    await row.getByText("revoked").waitFor();
    const revoked = await apiGet(ADMIN_KEY, `/v1/admin/keys/${created.id}`);
    check(revoked.is_active === false, "revoking from the page revokes the key");
    const refused = await fetch(new URL("/v1/analytics/me", BASE), { headers: { Authorization: `Bearer ${shown}` } });
    check(refused.status === 401 || refused.status === 403, "the revoked key is refused");
  } else {
    await page.getByTestId("empty").waitFor();
    check((await page.getByTestId("empty").textContent()).includes("not available"), "without the keys API the keys page says so");
  }
  await shot(page, "12-keys");

  // --- learned routing (no pools in this router's routing file) ---------------------------------
  await page.getByRole("link", { name: "Routing" }).click();
  await page.getByTestId("empty").waitFor();
  check((await page.getByTestId("empty").textContent()).includes("No learned routing pools"), "without pools the routing page says how to add one");
  await shot(page, "17-routing");

  // --- sign out ---------------------------------------------------------------------------------
  await page.getByTestId("signout").click();
  await page.getByTestId("signin-key").waitFor();
  equal(await page.evaluate(() => sessionStorage.length), 0, "signing out forgets the key");
  await page.reload();
  await page.getByTestId("signin-key").waitFor();
  check(true, "after signing out a reload asks for a key again");
  await page.context().close();

  // --- a normal key sees only its own traffic ---------------------------------------------------
  {
    const user = await newPage();
    await signIn(user, USER_KEY);
    check((await user.getByRole("link", { name: "Keys" }).count()) === 0, "a normal key has no keys page");
    check((await user.getByRole("link", { name: "Routing" }).count()) === 0, "a normal key has no routing page");
    check((await user.getByTestId("user-picker").count()) === 0, "a normal key cannot pick another key");
    const own = await overviewMatches(user, USER_KEY, { days: 7 }, "a normal key's overview");
    check(own.total_requests > 0 && own.total_requests < usage30.total_requests, "a normal key sees its own requests only");
    await shot(user, "13-user-overview");
    await user.getByRole("link", { name: "Requests" }).click();
    await eventually(() => tableTotal(user), own.total_requests, "a normal key's table lists its own requests");
    await user.reload(); // the session survives a reload of the tab
    await user.getByTestId("whoami").waitFor();
    check(true, "a reload keeps the session");
    await user.context().close();
  }

  // --- phone width ------------------------------------------------------------------------------
  {
    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone, ADMIN_KEY);
    await waitIdle(phone);
    const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check((await overflow()) <= 1, "the overview fits a phone-width screen");
    await shot(phone, "14-phone-overview");
    await phone.getByRole("link", { name: "Requests" }).click();
    await tableTotal(phone);
    check((await overflow()) <= 1, "the requests page fits a phone-width screen");
    await shot(phone, "15-phone-requests");
    await phone.getByRole("link", { name: "Models" }).click();
    await phone.getByTestId("models-table").waitFor();
    check((await overflow()) <= 1, "the models page fits a phone-width screen");
    await shot(phone, "16-phone-models");
    await phone.context().close();
  }

  check(pageErrors.length === 0, `no uncaught errors in the page ${pageErrors.join("; ")}`);
  console.log(`\n${passed.length} checks passed; screenshots in ${ARTIFACTS}`);
} catch (error) {
  console.error(`\nFAILED after ${passed.length} checks: ${error.message}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join("; ")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
