import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Keys } from "../src/pages/Keys";
import { stubFetch } from "./fetch";

const KEY = (id: string, name: string, extra = "") =>
  `{"id":"${id}","name":"${name}","owner":null,"prefix":"mr-${id}abcdef","is_admin":false,"is_active":true,"allowed_models":null,` +
  `"rpm_limit":null,"tpm_limit":null,"budget_usd":null,"budget_period":null,"expires_at":null,"metadata":null,"spend_usd":0,` +
  `"period_start":null,"period_resets_at":null,"created_at":"2026-11-26T10:00:00+00:00","revoked_at":null${extra}}`;

describe("keys", () => {
  it("lists limits and spend against the budget", async () => {
    const budgeted = KEY("k2", "team", "").replace('"rpm_limit":null', '"rpm_limit":60').replace('"budget_usd":null', '"budget_usd":25').replace('"spend_usd":0', '"spend_usd":20.000000000001').replace('"budget_period":null', '"budget_period":"month"');
    stubFetch(() => ({ body: `{"data":[${KEY("k1", "me")},${budgeted}]}` }));
    render(<Keys apiKey="mr-k" myId="k1" />);
    const table = await screen.findByTestId("keys-table");
    const row = within(table).getByText("team").closest("tr")!;
    expect(row).toHaveTextContent("60 requests/min");
    expect(row).toHaveTextContent("$20.00 / $25.00 per month");
    expect(within(row).getByRole("meter")).toHaveAttribute("aria-valuenow", "80");
    const mine = within(table).getByText("me").closest("tr")!;
    expect(within(mine).queryByRole("button", { name: /Revoke/ })).not.toBeInTheDocument();
  });

  it("creates a key, sends the budget as an exact decimal string and shows the key once", async () => {
    let created = false;
    const calls = stubFetch((call) => {
      if (call.method === "POST") {
        created = true;
        return { status: 201, body: KEY("k3", "ci").replace(/}$/, ',"key":"mr-SECRET-once"}') };
      }
      return { body: `{"data":[${created ? KEY("k3", "ci") : ""}]}`.replace("[]", "[]") };
    });
    render(<Keys apiKey="mr-k" myId="k1" />);
    await screen.findByText("No keys yet.");
    await userEvent.type(screen.getByLabelText("Name"), "ci");
    await userEvent.type(screen.getByLabelText("Budget (USD)"), "0.10");
    await userEvent.type(screen.getByLabelText("Requests / minute"), "30");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByTestId("new-key")).toHaveTextContent("mr-SECRET-once");
    expect(screen.getByRole("button", { name: "Copy" })).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ name: "ci", is_admin: false, rpm_limit: 30, budget_usd: "0.10", budget_period: "month" });
    await userEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByText("mr-SECRET-once")).not.toBeInTheDocument();
  });

  it("refuses a budget that is not an amount without calling the router", async () => {
    const calls = stubFetch(() => ({ body: '{"data":[]}' }));
    render(<Keys apiKey="mr-k" myId="k1" />);
    await screen.findByText("No keys yet.");
    await userEvent.type(screen.getByLabelText("Name"), "x");
    await userEvent.type(screen.getByLabelText("Budget (USD)"), "ten");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("number of dollars");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("says so when the server has no keys API", async () => {
    stubFetch(() => ({ status: 404, body: '{"error":{"message":"No such endpoint.","type":"not_found_error","param":null,"code":null}}' }));
    render(<Keys apiKey="mr-k" myId="k1" />);
    expect(await screen.findByTestId("empty")).toHaveTextContent("Key management is not available");
  });
});

describe("editing limits", () => {
  it("sends changed limits and clears emptied ones", async () => {
    const limited = KEY("k2", "team").replace('"rpm_limit":null', '"rpm_limit":60').replace('"tpm_limit":null', '"tpm_limit":1000');
    const calls = stubFetch((call) => (call.method === "PATCH" ? { body: limited } : { body: `{"data":[${limited}]}` }));
    render(<Keys apiKey="mr-k" myId="k1" />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit limits of team" }));
    const form = screen.getByRole("form", { name: "Limits of team" });
    const rpm = within(form).getByLabelText("Requests / minute");
    expect(rpm).toHaveValue(60);
    await userEvent.clear(rpm);
    await userEvent.type(rpm, "120");
    await userEvent.clear(within(form).getByLabelText("Tokens / minute"));
    await userEvent.type(within(form).getByLabelText("Budget (USD)"), "7.25");
    await userEvent.selectOptions(within(form).getByLabelText("Budget period"), "day");
    await userEvent.click(within(form).getByRole("button", { name: "Save limits" }));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.url.pathname).toBe("/v1/admin/keys/k2");
    expect(patch.body).toEqual({ rpm_limit: 120, tpm_limit: null, budget_usd: "7.25", budget_period: "day" });
    expect(screen.queryByRole("form", { name: "Limits of team" })).not.toBeInTheDocument();
  });
});
