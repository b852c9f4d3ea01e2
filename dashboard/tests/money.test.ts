import { describe, expect, it } from "vitest";
import { compareMoney, estimateCost, formatUsd, parseJson } from "../src/money";

describe("parseJson", () => {
  it("keeps money fields exact, digit for digit", () => {
    const parsed = parseJson<{ total_cost_usd: string; input_price_per_1m_tokens: string; requests: number }>(
      '{"total_cost_usd": 12345.678901234567, "input_price_per_1m_tokens":0.15, "requests": 3}',
    );
    expect(parsed.total_cost_usd).toBe("12345.678901234567"); // a float would be 12345.678901234567 -> ...4568
    expect(parsed.input_price_per_1m_tokens).toBe("0.15");
    expect(parsed.requests).toBe(3);
  });

  it("keeps a USD estimate's value and bounds exact, not its sample count", () => {
    const parsed = parseJson<{ savings_usd: { estimate: string; low: string; high: null; samples: number }; share: number }>(
      '{"savings_usd": {"estimate": 0.000123456789012, "low": -1e-7, "high": null, "samples": 12}, "share": 0.5}',
    );
    expect(parsed.savings_usd).toEqual({ estimate: "0.000123456789012", low: "-1e-7", high: null, samples: 12 });
    expect(parsed.share).toBe(0.5);
  });

  it("leaves text that merely looks like a money field alone", () => {
    const text = JSON.stringify({ prompt_preview: 'say "total_cost_usd": 5', total_cost_usd: null });
    const parsed = parseJson<{ prompt_preview: string; total_cost_usd: null }>(text);
    expect(parsed.prompt_preview).toBe('say "total_cost_usd": 5');
    expect(parsed.total_cost_usd).toBeNull();
  });
});

describe("formatUsd", () => {
  it.each([
    ["0", "$0.00"],
    ["1234567.891", "$1,234,567.89"],
    ["0.005", "$0.005"],
    ["0.000123456", "$0.000123"],
    ["-2.5", "-$2.50"],
    [null, "—"],
  ])("formats %s as %s", (value, shown) => {
    expect(formatUsd(value)).toBe(shown);
  });
});

describe("estimateCost", () => {
  const prices = { input_price_per_1m_tokens: "0.15", output_price_per_1m_tokens: "0.6", cached_input_price_per_1m_tokens: "0.075" };

  it("is exact where floats are not", () => {
    // 0.1 + 0.2 style error: as floats 3 * 0.1 / 1e6 != 3e-7
    const estimate = estimateCost({ ...prices, input_price_per_1m_tokens: "0.1" }, 3, 0);
    expect(estimate?.total.toFixed()).toBe("0.0000003");
    expect(estimateCost(prices, 1_234_567, 7_654_321)?.total.toFixed()).toBe("4.77777765");
  });

  it("bills cached input at the cached rate, never more cached than input", () => {
    expect(estimateCost(prices, 1_000_000, 0, 400_000)?.input.toFixed()).toBe("0.12");
    expect(estimateCost(prices, 10, 0, 50)?.input.toFixed()).toBe("0.00000075");
  });

  it("refuses to guess an unknown price", () => {
    expect(estimateCost({ ...prices, output_price_per_1m_tokens: null }, 10, 10)).toBeNull();
  });
});

it("sorts unknown amounts last", () => {
  expect(["2", null, "10", "0.5"].sort(compareMoney)).toEqual(["0.5", "2", "10", null]);
});
