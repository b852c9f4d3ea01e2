import { parseJson, type Money } from "./money";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(message: string, status: number, code: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Query parameters; a list repeats its name (`tag=a&tag=b`). */
export type Params = Record<string, string | number | string[] | null | undefined>;

function query(params: Params | undefined): string {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== null && item !== undefined && item !== "") search.append(name, String(item));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** One call to the router's API with the signed-in key; errors become readable `ApiError`s. */
export async function api<T>(
  key: string,
  path: string,
  options: { params?: Params; method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path + query(options.params), {
      method: options.method ?? "GET",
      headers: {
        Authorization: `Bearer ${key}`,
        ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(
      "Cannot reach the router. Is it running? Check the server and try again.",
      0,
      "network_error",
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let message = `The router answered HTTP ${response.status}.`;
    let code: string | null = null;
    try {
      const body = JSON.parse(text) as { error?: { message?: string; code?: string | null } };
      if (body.error?.message) message = body.error.message;
      code = body.error?.code ?? null;
    } catch {
      // not JSON (a proxy's error page): keep the status line
    }
    throw new ApiError(message, response.status, code);
  }
  if (!text) return undefined as T;
  try {
    return parseJson<T>(text);
  } catch {
    throw new ApiError("The router sent an answer that is not JSON.", response.status, "bad_json");
  }
}

/** A readable sentence for any error a page may show. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return `This API key was not accepted: ${error.message}`;
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status >= 500) return `The router had a problem (HTTP ${error.status}): ${error.message}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// --- the API's shapes ---------------------------------------------------------

export interface Me {
  id: string;
  name: string;
  prefix: string;
  is_admin: boolean;
}

export interface UserItem {
  id: string;
  name: string;
  prefix: string;
  is_admin: boolean;
  is_active: boolean;
}

export interface ModelUsage {
  model: string;
  provider: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_cost_usd: Money;
  cost_usd: Money; // the original design's name for total_cost_usd
  average_latency_ms: number | null;
}

export interface ProviderUsage {
  provider: string | null;
  requests: number;
  total_cost_usd: Money;
  cost_usd: Money;
}

export interface DailyStats {
  date: string;
  requests: number;
  successful_requests: number;
  failed_requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  total_cost_usd: Money;
  cost_usd: Money;
  average_latency_ms: number | null;
}

export interface Usage {
  period_days: number;
  start_date: string;
  end_date: string;
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  success_rate: number; // 0-1, as the original design has it
  success_rate_percent: number; // 0-100
  total_input_tokens: number;
  total_output_tokens: number;
  total_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
  total_cost_usd: Money;
  average_latency_ms: number | null;
  avg_latency_ms: number | null; // the original design's name for average_latency_ms
  requests_with_unknown_cost: number;
  by_model: ModelUsage[];
  by_provider: ProviderUsage[];
  daily_stats: DailyStats[];
  [optional: string]: unknown; // fields other features add (savings, ...)
}

export interface RequestSummary {
  id: string;
  model: string;
  provider: string | null;
  status: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  total_cost_usd: Money | null;
  latency_ms: number | null;
  created_at: string;
  prompt_preview: string;
  error_message: string | null;
  is_stream: boolean;
  user_id: string | null;
  front_door?: string; // the API the call came through (routers before it: absent)
}

export interface RequestPage {
  requests: RequestSummary[];
  total: number;
  /** True when `total` is a lower bound: a text search matched more rows than it counts. */
  total_is_estimate?: boolean;
  page: number;
  per_page: number;
  total_pages: number;
}

export interface RequestDetail {
  id: string;
  user_id: string | null;
  model: string;
  provider: string | null;
  prompt_text: string;
  request_messages: unknown;
  response_text: string | null;
  reasoning_text: string | null;
  tool_calls: unknown;
  finish_reason: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  input_price_per_1m_tokens: Money | null;
  output_price_per_1m_tokens: Money | null;
  cached_input_price_per_1m_tokens: Money | null;
  cache_write_price_per_1m_tokens: Money | null;
  input_cost_usd: Money | null;
  output_cost_usd: Money | null;
  total_cost_usd: Money | null;
  cost_unknown: boolean;
  latency_ms: number | null;
  ttft_ms: number | null;
  is_stream: boolean;
  status: string;
  error_message: string | null;
  upstream_status: number | null;
  http_status: number | null;
  created_at: string;
  completed_at: string | null;
  front_door?: string;
  dropped_hints?: string[] | null; // what a translation dropped or clamped
  attempts?: RouteAttempt[] | null;
  [optional: string]: unknown;
}

/** One upstream call made for a request. */
export interface RouteAttempt {
  deployment: string;
  provider?: string | null;
  model?: string | null;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  panic?: boolean; // made on an open circuit: every deployment was open
}

export const FRONT_DOORS: [string, string, string][] = [
  ["chat_completions", "Chat", "OpenAI Chat Completions"],
  ["messages", "Messages", "Anthropic Messages"],
  ["responses", "Responses", "OpenAI Responses"],
  ["embeddings", "Embeddings", "OpenAI Embeddings"],
];

/** "Chat", "Messages", ...: a front door's short label (an unknown one as it is). */
export function frontDoorLabel(door: string | null | undefined): string {
  if (!door) return "—";
  return FRONT_DOORS.find(([name]) => name === door)?.[1] ?? door;
}

export function frontDoorTitle(door: string | null | undefined): string {
  if (!door) return "";
  return FRONT_DOORS.find(([name]) => name === door)?.[2] ?? door;
}

// --- learned routing -------------------------------------------------------------

export interface RoutingDecision {
  request_id: string;
  created_at: string;
  pool: string;
  task_class: string;
  features: Record<string, unknown>;
  chosen_model: string;
  answered_by: string | null;
  probability: number;
  explored: boolean;
  default_model: string;
  default_probability: number;
  candidates: { model: string; estimated_cost_usd?: Money; probability?: number }[];
  estimated_cost_usd: Money;
  default_cost_usd: Money | null;
  cost_usd: Money | null;
  quality: number | null;
  quality_source: string;
  reason: string;
}

export interface PoolSummary {
  name: string;
  candidates: string[];
  default_model: string;
  objective?: string;
}

/** A mean with its 95 % interval (null bounds: too few samples). */
export interface QualityEstimate {
  estimate: number;
  low: number | null;
  high: number | null;
  samples: number;
}

export interface UsdEstimate {
  estimate: Money;
  low: Money | null;
  high: Money | null;
  samples: number;
}

export interface ModelChoice {
  model: string;
  requests: number;
  share: number;
  explored: number;
  quality: QualityEstimate | null;
  cost_per_request_usd: UsdEstimate | null;
}

export interface PolicyValue {
  default_model: string;
  policy_cost_per_request_usd: UsdEstimate | null;
  default_cost_per_request_usd: UsdEstimate | null;
  savings_per_request_usd: UsdEstimate | null;
  savings_total_usd: UsdEstimate | null;
  policy_quality: QualityEstimate | null;
  default_quality: QualityEstimate | null;
  quality_difference: QualityEstimate | null;
  default_never_possible: number;
}

export interface PoolReport {
  pool: string;
  days: number;
  generated_at: string;
  default_model: string;
  requests: number;
  explored: number;
  explored_share: number;
  exploration_spend_usd: Money;
  cost_unknown: number;
  overall: PolicyValue;
  classes: { task_class: string; requests: number; models: ModelChoice[]; value: PolicyValue }[];
}

/** GET /v1/analytics/models answers a bare array of these. */
export interface CatalogueModel {
  id: number; // the original design's integer id
  uuid: string; // what a request's model_id refers to
  model_id: string;
  provider: string;
  display_name: string;
  input_price_per_1m_tokens: Money | null;
  output_price_per_1m_tokens: Money | null;
  cached_input_price_per_1m_tokens: Money | null;
  cache_write_price_per_1m_tokens: Money | null;
  context_window: number | null;
  max_output_tokens: number | null;
  price_source: string;
  is_active: boolean;
}

export interface ApiKey {
  id: string;
  name: string;
  owner: string | null;
  prefix: string;
  is_admin: boolean;
  is_active: boolean;
  allowed_models: string[] | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_usd: Money | null;
  budget_period: "day" | "month" | "total" | null;
  expires_at: string | null;
  metadata: Record<string, unknown> | null;
  spend_usd: Money | null;
  period_start: string | null;
  period_resets_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface NewKey extends ApiKey {
  key: string;
}
