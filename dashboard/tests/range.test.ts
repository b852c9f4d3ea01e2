import { describe, expect, it } from "vitest";
import { describeRange, presetRange, rangeProblem, usageParams } from "../src/range";

const NOW = new Date("2026-11-26T23:30:00Z");

describe("ranges", () => {
  it("a preset ends today (UTC) and spans its days", () => {
    expect(presetRange("7", NOW)).toEqual({ preset: "7", start: "2026-11-20", end: "2026-11-26" });
    expect(presetRange("1", NOW)).toEqual({ preset: "1", start: "2026-11-26", end: "2026-11-26" });
    expect(usageParams(presetRange("90", NOW))).toEqual({ days: 90 });
  });

  it("a custom range asks the usage API for its days ending on its last day", () => {
    expect(usageParams({ preset: "custom", start: "2026-02-25", end: "2026-03-02" })).toEqual({ days: 6, end_date: "2026-03-02" });
  });

  it("explains a range that cannot be used", () => {
    expect(rangeProblem("2026-11-10", "2026-11-01")).toMatch(/after/);
    expect(rangeProblem("2024-01-01", "2026-01-01")).toMatch(/365/);
    expect(rangeProblem("", "2026-01-01")).toMatch(/Pick/);
    expect(rangeProblem("2026-01-01", "2026-01-01")).toBeNull();
  });

  it("describes the days shown", () => {
    expect(describeRange({ preset: "custom", start: "2026-11-01", end: "2026-11-03" })).toBe("1 Nov 2026 – 3 Nov 2026 (UTC)");
  });
});
