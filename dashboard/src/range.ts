// The date range the overview and the request log share. The usage API counts
// whole UTC days ending today, so "24 h" is today (UTC) and "7 d" is today and
// the six days before; a custom range is any span of whole UTC days.

export type Preset = "1" | "7" | "30" | "90" | "custom";

export interface Range {
  preset: Preset;
  start: string; // YYYY-MM-DD, inclusive
  end: string; // YYYY-MM-DD, inclusive
}

export const PRESETS: { value: Exclude<Preset, "custom">; label: string; title: string }[] = [
  { value: "1", label: "24 h", title: "Today (UTC)" },
  { value: "7", label: "7 d", title: "Today and the 6 days before (UTC)" },
  { value: "30", label: "30 d", title: "Today and the 29 days before (UTC)" },
  { value: "90", label: "90 d", title: "Today and the 89 days before (UTC)" },
];

export const MAX_DAYS = 365;

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function daysBetween(start: string, end: string): number {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000) + 1;
}

export function presetRange(preset: Exclude<Preset, "custom">, now: Date = new Date()): Range {
  const end = todayUtc(now);
  return { preset, start: addDays(end, 1 - Number(preset)), end };
}

/** Why a custom range cannot be used, or null when it can. */
export function rangeProblem(start: string, end: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end)) return "Pick a start and an end date.";
  const days = daysBetween(start, end);
  if (days < 1) return "The start date must not be after the end date.";
  if (days > MAX_DAYS) return `A range may cover at most ${MAX_DAYS} days.`;
  return null;
}

/** Parameters for GET /v1/analytics/usage. */
export function usageParams(range: Range): { days: number; end_date?: string } {
  if (range.preset === "custom") return { days: daysBetween(range.start, range.end), end_date: range.end };
  return { days: Number(range.preset) };
}

export function describeRange(range: Range): string {
  const fmt = (day: string) =>
    new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  return range.start === range.end ? `${fmt(range.start)} (UTC)` : `${fmt(range.start)} – ${fmt(range.end)} (UTC)`;
}
