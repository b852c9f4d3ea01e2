import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Routing } from "../src/pages/Routing";
import { type Call, stubFetch } from "./fetch";

const POOLS =
  '{"pools":[{"name":"auto-coding","candidates":["gpt-4o-mini","claude-haiku-4-5","gpt-4o"],"default_model":"gpt-4o","objective":"cheapest_good_enough"},' +
  '{"name":"auto-chat","candidates":["gpt-4o-mini","gpt-4o"],"default_model":"gpt-4o","objective":"best_under_cost"}]}';

const USD = (estimate: string, low: string | null, high: string | null, samples: number) =>
  `{"estimate":${estimate},"low":${low},"high":${high},"samples":${samples}}`;
const QUALITY = (estimate: number, low: number | null, high: number | null, samples: number) =>
  `{"estimate":${estimate},"low":${low},"high":${high},"samples":${samples}}`;
const VALUE =
  `{"default_model":"gpt-4o","policy_cost_per_request_usd":${USD("0.0004", "0.0003", "0.0005", 90)},` +
  `"default_cost_per_request_usd":${USD("0.0025", "0.002", "0.003", 90)},` +
  `"savings_per_request_usd":${USD("0.002123456789012", "0.0015", "0.0027", 90)},` +
  `"savings_total_usd":${USD("0.191111111011", "0.135", "0.243", 90)},` +
  `"policy_quality":${QUALITY(0.86, 0.8, 0.92, 40)},"default_quality":${QUALITY(0.88, 0.7, 1, 40)},` +
  `"quality_difference":${QUALITY(-0.02, -0.1, 0.06, 40)},"default_never_possible":3}`;

const REPORT = (pool: string, days: string) =>
  `{"pool":"${pool}","days":${days},"generated_at":"2026-11-26T20:00:00+00:00","default_model":"gpt-4o","requests":90,"explored":9,` +
  `"explored_share":0.1,"exploration_spend_usd":0.0123,"cost_unknown":0,"overall":${VALUE},"classes":[` +
  `{"task_class":"size=s,tools=no,code=yes","requests":90,"value":${VALUE},"models":[` +
  `{"model":"gpt-4o-mini","requests":72,"share":0.8,"explored":2,"quality":${QUALITY(0.85, 0.79, 0.91, 30)},"cost_per_request_usd":${USD("0.0003", "0.00025", "0.00035", 72)}},` +
  `{"model":"gpt-4o","requests":18,"share":0.2,"explored":7,"quality":${QUALITY(0.9, null, null, 1)},"cost_per_request_usd":null}]}]}`;

function answer(call: Call) {
  if (call.url.pathname === "/v1/analytics/routing/pools") return { body: POOLS };
  const pool = decodeURIComponent(call.url.pathname.split("/").pop() ?? "");
  return { body: REPORT(pool, call.url.searchParams.get("days") ?? "7") };
}

function reports(calls: Call[]) {
  return calls.filter((c) => c.url.pathname.startsWith("/v1/analytics/routing/pools/")).map((c) => `${c.url.pathname}?${c.url.search.slice(1)}`);
}

describe("the learned routing page", () => {
  it("reports the first pool per class: models, share, quality and cost with intervals", async () => {
    const calls = stubFetch(answer);
    render(<Routing apiKey="mr-admin" />);
    const report = await screen.findByTestId("pool-report");
    expect(reports(calls)).toEqual(["/v1/analytics/routing/pools/auto-coding?days=7"]);
    expect(screen.getByTestId("pool-candidates")).toHaveTextContent("gpt-4o-mini, claude-haiku-4-5, gpt-4o · default gpt-4o");
    const [klass] = within(report).getAllByTestId("pool-class");
    expect(klass).toHaveTextContent("size=s,tools=no,code=yes");
    const rows = within(klass).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("gpt-4o-mini80.0 %72 (2)0.85 (0.79–0.91)$0.0003 ($0.00025 to $0.00035)");
    expect(rows[2]).toHaveTextContent("0.90 (too few samples for an interval)");
    expect(rows[2]).toHaveTextContent("—");
  });

  it("words the savings as an estimate from logged probabilities, against the default model", async () => {
    stubFetch(answer);
    render(<Routing apiKey="mr-admin" />);
    const savings = await screen.findByTestId("savings-overall");
    expect(savings).toHaveTextContent("Against always sending to gpt-4o: saved $0.00212 ($0.0015 to $0.0027) per request");
    expect(savings).toHaveTextContent("$0.19 ($0.14 to $0.24) in total");
    expect(savings).toHaveTextContent("quality difference -0.02 (-0.10–0.06)");
    expect(savings).toHaveTextContent("Estimated from logged probabilities");
    expect(savings).toHaveTextContent("3 decisions could never have gone to the default model");
    expect(screen.getByTestId("pool-savings")).toHaveAttribute("data-exact", "0.002123456789012");
  });

  it("switches pool and range", async () => {
    const calls = stubFetch(answer);
    render(<Routing apiKey="mr-admin" />);
    await screen.findByTestId("pool-report");
    await userEvent.selectOptions(screen.getByLabelText("Pool"), "auto-chat");
    await userEvent.selectOptions(screen.getByLabelText("Range"), "Last 30 days");
    await screen.findByTestId("pool-report");
    expect(reports(calls)).toEqual([
      "/v1/analytics/routing/pools/auto-coding?days=7",
      "/v1/analytics/routing/pools/auto-chat?days=7",
      "/v1/analytics/routing/pools/auto-chat?days=30",
    ]);
  });

  it("says how to add a pool when none is configured", async () => {
    const calls = stubFetch(() => ({ body: '{"pools":[]}' }));
    render(<Routing apiKey="mr-admin" />);
    expect(await screen.findByTestId("empty")).toHaveTextContent("No learned routing pools");
    expect(reports(calls)).toEqual([]);
  });

  it("says so when a pool has no decisions in the range", async () => {
    stubFetch((call) =>
      call.url.pathname === "/v1/analytics/routing/pools"
        ? { body: POOLS }
        : { body: REPORT("auto-coding", "7").replace('"requests":90,"explored":9', '"requests":0,"explored":0') },
    );
    render(<Routing apiKey="mr-admin" />);
    expect(await screen.findByTestId("empty")).toHaveTextContent("No decisions in this range");
  });
});
