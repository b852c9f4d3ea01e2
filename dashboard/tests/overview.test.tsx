import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Overview } from "../src/pages/Overview";
import { presetRange } from "../src/range";
import { type Call, USAGE, stubFetch } from "./fetch";

/** The usage answer, and an empty catalogue (a bare array, as the API answers it). */
const usage = (body: string) => (call: Call) => ({ body: call.url.pathname === "/v1/analytics/models" ? "[]" : body });

const RANGE = presetRange("7", new Date("2026-11-26T12:00:00Z"));

describe("overview", () => {
  it("shows the usage API's totals, the cost exactly", async () => {
    const calls = stubFetch(usage(USAGE));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    const cost = await screen.findByTestId("stat-cost");
    expect(cost).toHaveTextContent("$12,345.68");
    expect(cost).toHaveAttribute("data-exact", "12345.678901234567");
    expect(screen.getByTestId("stat-requests")).toHaveTextContent("1,234");
    expect(screen.getByTestId("stat-latency")).toHaveTextContent("813 ms");
    expect(screen.getByTestId("stat-success")).toHaveTextContent("97.2%");
    expect(screen.getByText(/2 requests without a known price/)).toBeInTheDocument();
    expect(screen.getByTestId("by-model")).toHaveTextContent("claude-haiku-4-5");
    expect(calls[0].url.searchParams.get("days")).toBe("7");
    expect(calls[0].url.searchParams.has("user_id")).toBe(false);
  });

  it("shows money saved when the API reports it", async () => {
    const withSavings = USAGE.replace(
      '"requests_with_unknown_cost":2,',
      '"requests_with_unknown_cost":2,"cache_hits":40,"cache_hit_rate":12.5,"cache_saved_cost_usd":3.000000000001,"routing_saved_usd":0.5,',
    );
    stubFetch(usage(withSavings));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    const cache = await screen.findByTestId("stat-cache_saved_cost_usd");
    expect(cache).toHaveAttribute("data-exact", "3.000000000001");
    expect(screen.getByRole("region", { name: "Saved by cache" })).toHaveTextContent("40 cache hits · 12.5% hit rate");
    expect(screen.getByTestId("stat-routing_saved_usd")).toHaveTextContent("$0.50");
  });

  it("has no savings cards when the API has no such fields", async () => {
    stubFetch(usage(USAGE));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    await screen.findByTestId("stat-cost");
    expect(screen.queryByText(/Saved by/)).not.toBeInTheDocument();
  });

  it("asks for one key's usage when an admin picked one", async () => {
    const calls = stubFetch(usage(USAGE));
    render(<Overview apiKey="mr-k" range={{ preset: "custom", start: "2026-11-01", end: "2026-11-10" }} userId="u-1" />);
    await screen.findByTestId("stat-cost");
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({ days: "10", end_date: "2026-11-10", user_id: "u-1" });
  });

  it("calls the cost of a model without a price unknown, not $0", async () => {
    const unpriced = USAGE.replace('"total_cost_usd":345.678901234566,"average_latency_ms":1300.25', '"total_cost_usd":0,"average_latency_ms":1300.25');
    const catalogue =
      '[{"id":1,"uuid":"m1","model_id":"claude-haiku-4-5","provider":"anthropic","display_name":"x","input_price_per_1m_tokens":null,' +
      '"output_price_per_1m_tokens":null,"cached_input_price_per_1m_tokens":null,"cache_write_price_per_1m_tokens":null,' +
      '"context_window":null,"max_output_tokens":null,"price_source":"manual","is_active":true}]';
    stubFetch((call) => ({ body: call.url.pathname === "/v1/analytics/models" ? catalogue : unpriced }));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    const table = await screen.findByTestId("by-model");
    const row = (await within(table).findByText("claude-haiku-4-5")).closest("tr")!;
    expect(await within(row).findByText("unknown")).toBeInTheDocument();
    expect(within(table).getByText("gpt-4o-mini").closest("tr")).toHaveTextContent("$12,000.00");
  });

  it("has an empty state with a first request to send", async () => {
    const empty = USAGE.replace('"total_requests":1234', '"total_requests":0');
    stubFetch(usage(empty));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    expect(await screen.findByTestId("empty")).toHaveTextContent("No requests in this range");
    expect(screen.getByTestId("empty")).toHaveTextContent("/v1/chat/completions");
  });

  it("shows a readable error when the server fails", async () => {
    stubFetch(() => ({ status: 502, body: "<html>Bad Gateway</html>" }));
    render(<Overview apiKey="mr-k" range={RANGE} userId="" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("The router had a problem (HTTP 502)");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});
