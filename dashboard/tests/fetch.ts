import { vi } from "vitest";

export interface Call {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Stub `fetch` with a function of the request; answers are JSON text as the router writes it. */
export function stubFetch(answer: (call: Call) => { status?: number; body: string } | "network-error") {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const call: Call = {
        url: new URL(input, "http://router.test"),
        method: init.method ?? "GET",
        headers: (init.headers ?? {}) as Record<string, string>,
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      };
      calls.push(call);
      const result = answer(call);
      if (result === "network-error") throw new TypeError("Failed to fetch");
      return new Response(result.body, { status: result.status ?? 200, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

export const USAGE = `{"period_days":7,"start_date":"2026-11-20","end_date":"2026-11-26","total_requests":1234,
"successful_requests":1200,"failed_requests":34,"success_rate":0.9724,"success_rate_percent":97.24,"total_input_tokens":500000,"total_output_tokens":250000,
"total_tokens":750000,"cached_input_tokens":1000,"reasoning_tokens":0,"total_cost_usd":12345.678901234567,
"average_latency_ms":812.5,"avg_latency_ms":812.5,"requests_with_unknown_cost":2,
"by_model":[{"model":"gpt-4o-mini","provider":"openai","requests":1000,"input_tokens":400000,"output_tokens":200000,"total_cost_usd":12000.000000000001,"average_latency_ms":700.0},
{"model":"claude-haiku-4-5","provider":"anthropic","requests":234,"input_tokens":100000,"output_tokens":50000,"total_cost_usd":345.678901234566,"average_latency_ms":1300.25}],
"by_provider":[{"provider":"openai","requests":1000,"total_cost_usd":12000.000000000001},{"provider":"anthropic","requests":234,"total_cost_usd":345.678901234566}],
"daily_stats":[{"date":"2026-11-26","requests":1234,"successful_requests":1200,"failed_requests":34,"input_tokens":500000,"output_tokens":250000,"total_tokens":750000,"total_cost_usd":12345.678901234567,"average_latency_ms":812.5}]}`;
