// Money is an exact decimal string end to end: the API writes exact JSON
// numbers, `parseJson` keeps money fields as their source text, and all
// arithmetic goes through decimal.js. No dollar amount is ever a float.
import Decimal from "decimal.js";

export type Money = string;

const MONEY_KEY = /"([A-Za-z0-9_]*(?:_usd|_per_1m_tokens))"(\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

// A USD estimate (`"savings_per_request_usd": {"estimate": 0.001, "low": ..., "high": ..., "samples": 9}`).
const MONEY_OBJECT = /"[A-Za-z0-9_]*_usd"\s*:\s*\{[^{}]*\}/g;
const ESTIMATE_KEY = /"(estimate|low|high)"(\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** JSON.parse, but money fields (`*_usd`, `*_per_1m_tokens`, and the estimate and
 *  bounds of a `*_usd` object) stay exact strings.
 *  A key inside a JSON string has escaped quotes (\"), so it never matches. */
export function parseJson<T>(text: string): T {
  const exact = text.replace(MONEY_OBJECT, (object) => object.replace(ESTIMATE_KEY, '"$1"$2"$3"'));
  return JSON.parse(exact.replace(MONEY_KEY, '"$1"$2"$3"')) as T;
}

export function dec(value: Money | number | null | undefined): Decimal | null {
  if (value === null || value === undefined || value === "") return null;
  try {
    return new Decimal(value);
  } catch {
    return null;
  }
}

/** "$1,234.57" for a dollar or more; small amounts keep 3 significant digits. */
export function formatUsd(value: Money | Decimal | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const d = value instanceof Decimal ? value : dec(value);
  if (d === null) return "—";
  if (d.isZero()) return "$0.00";
  const abs = d.abs();
  const sign = d.isNegative() ? "-" : "";
  if (abs.gte("0.01")) {
    const [whole, frac] = abs.toFixed(2, Decimal.ROUND_HALF_UP).split(".");
    return `${sign}$${groupThousands(whole)}.${frac}`;
  }
  return `${sign}$${abs.toSignificantDigits(3, Decimal.ROUND_HALF_UP).toFixed()}`;
}

/** The exact amount, every digit: for titles and tooltips. */
export function exactUsd(value: Money | null | undefined): string {
  const d = dec(value);
  return d === null ? "unknown" : `$${d.toFixed()}`;
}

export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatInt(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : groupThousands(String(Math.trunc(value)));
}

export function compareMoney(a: Money | null, b: Money | null): number {
  const x = dec(a);
  const y = dec(b);
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x.comparedTo(y);
}

export interface Prices {
  input_price_per_1m_tokens: Money | null;
  output_price_per_1m_tokens: Money | null;
  cached_input_price_per_1m_tokens: Money | null;
}

export interface Estimate {
  input: Decimal;
  output: Decimal;
  total: Decimal;
}

const MILLION = new Decimal(1_000_000);

/** The cost of a call at a model's base rates, exactly; null when a needed price is unknown.
 *  Cached input tokens are part of the input tokens and billed at the cached rate
 *  (the input rate when the model has none). Long-context tiers and peak hours are not applied. */
export function estimateCost(
  prices: Prices,
  inputTokens: number,
  outputTokens: number,
  cachedTokens = 0,
): Estimate | null {
  const inputPrice = dec(prices.input_price_per_1m_tokens);
  const outputPrice = dec(prices.output_price_per_1m_tokens);
  if (inputPrice === null || outputPrice === null) return null;
  const cachedPrice = dec(prices.cached_input_price_per_1m_tokens) ?? inputPrice;
  const cached = Math.min(Math.max(cachedTokens, 0), inputTokens);
  const input = inputPrice
    .times(inputTokens - cached)
    .plus(cachedPrice.times(cached))
    .dividedBy(MILLION);
  const output = outputPrice.times(outputTokens).dividedBy(MILLION);
  return { input, output, total: input.plus(output) };
}
