import { api, frontDoorLabel, frontDoorTitle, type RequestDetail } from "../api";
import { ErrorBox, Fact, Loading, StatusBadge, formatDateTime, formatMs } from "../components/common";
import { Attempts, RoutingDecisionCard } from "../components/RequestRouting";
import { useLoad } from "../hooks";
import { exactUsd, formatInt } from "../money";

interface Message {
  role?: string;
  content?: unknown;
  name?: string;
  tool_calls?: unknown;
  tool_call_id?: string;
}

function partText(part: unknown): string {
  if (typeof part === "string") return part;
  if (part && typeof part === "object") {
    const p = part as Record<string, unknown>;
    if (p.type === "text" && typeof p.text === "string") return p.text;
    if (p.type === "image_url") return "[image]";
    return JSON.stringify(part, null, 2);
  }
  return String(part ?? "");
}

export function contentText(content: unknown): string {
  if (content === null || content === undefined) return "";
  if (Array.isArray(content)) return content.map(partText).join("\n");
  return partText(content);
}

function Messages({ messages }: { messages: unknown }) {
  if (!Array.isArray(messages)) return <pre className="code">{JSON.stringify(messages, null, 2)}</pre>;
  return (
    <ol className="messages">
      {(messages as Message[]).map((m, i) => (
        <li key={i} className={`message message-${m.role ?? "other"}`}>
          <span className="message-role">
            {m.role ?? "message"}
            {m.name ? ` · ${m.name}` : ""}
            {m.tool_call_id ? ` · ${m.tool_call_id}` : ""}
          </span>
          <div className="message-content">{contentText(m.content)}</div>
          {m.tool_calls !== undefined && m.tool_calls !== null && (
            <pre className="code">{JSON.stringify(m.tool_calls, null, 2)}</pre>
          )}
        </li>
      ))}
    </ol>
  );
}


// Fields this view shows itself; any other field the API adds (cache, routing,
// tags, ...) is listed under "More", so new features show up without a release.
const SHOWN = new Set([
  "id", "user_id", "model_id", "provider_id", "model", "provider", "prompt_text", "request_messages",
  "response_text", "reasoning_text", "tool_calls", "finish_reason", "input_tokens", "output_tokens",
  "total_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
  "input_price_per_1m_tokens", "output_price_per_1m_tokens", "cached_input_price_per_1m_tokens",
  "cache_write_price_per_1m_tokens", "input_cost_usd", "output_cost_usd", "total_cost_usd", "cost_unknown",
  "latency_ms", "ttft_ms", "is_stream", "status", "error_message", "upstream_status", "http_status",
  "created_at", "completed_at", "front_door", "dropped_hints", "attempts",
]);

export function extraFields(detail: RequestDetail): [string, unknown][] {
  return Object.entries(detail).filter(
    ([name, value]) => !SHOWN.has(name) && value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0),
  );
}

function showValue(name: string, value: unknown): string {
  if (typeof value === "string" && name.endsWith("_usd")) return exactUsd(value);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value, null, 2);
}

function usdExact(value: string | null): string {
  return value === null ? "unknown" : exactUsd(value);
}

export function RequestView({ apiKey, id, onBack }: { apiKey: string; id: string; onBack: () => void }) {
  const [detail, reload] = useLoad(
    (signal) => api<RequestDetail>(apiKey, `/v1/analytics/requests/${encodeURIComponent(id)}`, { signal }),
    [apiKey, id],
  );
  const back = (
    <button type="button" className="button" onClick={onBack}>
      ← All requests
    </button>
  );
  if (detail.state === "error")
    return (
      <div>
        {back}
        <ErrorBox error={detail.error} onRetry={reload} />
      </div>
    );
  if (!detail.data) return <Loading label="Loading the request…" />;
  const r = detail.data;
  const extra = extraFields(r);
  return (
    <article className="detail" data-testid="request-detail" aria-labelledby="detail-title">
      <div className="detail-head">
        {back}
        <h2 id="detail-title">
          <span className="mono">{r.model}</span> <StatusBadge status={r.status} />
        </h2>
        <p className="muted mono small">
          {r.id} · {formatDateTime(r.created_at)} UTC
        </p>
      </div>

      {r.error_message && (
        <div className="state state-error" role="note" data-testid="detail-error">
          <strong>Error{r.http_status ? ` (HTTP ${r.http_status})` : ""}</strong>
          <p>{r.error_message}</p>
        </div>
      )}

      <div className="grid-3">
        <section className="card">
          <h3>Cost</h3>
          <dl className="facts">
            <Fact label="Total" testId="detail-cost">
              {r.total_cost_usd === null ? "unknown" : usdExact(r.total_cost_usd)}
            </Fact>
            <Fact label="Input">{usdExact(r.input_cost_usd)}</Fact>
            <Fact label="Output">{usdExact(r.output_cost_usd)}</Fact>
            <Fact label="Input price / 1M">{usdExact(r.input_price_per_1m_tokens)}</Fact>
            <Fact label="Output price / 1M">{usdExact(r.output_price_per_1m_tokens)}</Fact>
            {r.cached_input_price_per_1m_tokens !== null && <Fact label="Cached input / 1M">{usdExact(r.cached_input_price_per_1m_tokens)}</Fact>}
          </dl>
        </section>
        <section className="card">
          <h3>Tokens</h3>
          <dl className="facts">
            <Fact label="Input" testId="detail-input-tokens">{formatInt(r.input_tokens)}</Fact>
            <Fact label="Cached input">{formatInt(r.cached_input_tokens)}</Fact>
            <Fact label="Cache writes">{formatInt(r.cache_write_tokens)}</Fact>
            <Fact label="Output" testId="detail-output-tokens">{formatInt(r.output_tokens)}</Fact>
            <Fact label="Reasoning">{formatInt(r.reasoning_tokens)}</Fact>
            <Fact label="Total">{formatInt(r.total_tokens)}</Fact>
          </dl>
        </section>
        <section className="card">
          <h3>Call</h3>
          <dl className="facts">
            <Fact label="Status" testId="detail-status">{r.status}</Fact>
            <Fact label="API" testId="detail-api">
              <span title={frontDoorTitle(r.front_door)}>{frontDoorLabel(r.front_door)}</span>
            </Fact>
            <Fact label="Latency" testId="detail-latency">{formatMs(r.latency_ms)}</Fact>
            <Fact label="Time to first token">{formatMs(r.ttft_ms)}</Fact>
            <Fact label="Provider">{r.provider ?? "—"}</Fact>
            <Fact label="Stream">{r.is_stream ? "yes" : "no"}</Fact>
            <Fact label="Finish reason">{r.finish_reason ?? "—"}</Fact>
            <Fact label="HTTP status">{r.http_status ?? "—"}</Fact>
            {r.upstream_status !== null && <Fact label="Upstream status">{r.upstream_status}</Fact>}
          </dl>
        </section>
      </div>

      {r.dropped_hints && r.dropped_hints.length > 0 && (
        <div className="state state-note" role="note" data-testid="detail-dropped">
          <strong>Dropped or changed in translation to {r.provider ?? "the provider"}</strong>
          <ul>
            {r.dropped_hints.map((hint) => (
              <li key={hint} className="mono">
                {hint}
              </li>
            ))}
          </ul>
        </div>
      )}

      {r.attempts && r.attempts.length > 0 && <Attempts attempts={r.attempts} />}
      <RoutingDecisionCard apiKey={apiKey} id={r.id} />

      {extra.length > 0 && (
        <section className="card" aria-labelledby="more-title">
          <h3 id="more-title">More</h3>
          <dl className="facts facts-wide" data-testid="detail-more">
            {[...extra].sort(([, a], [, b]) => Number(typeof a === "object") - Number(typeof b === "object")).map(([name, value]) => (
              <Fact key={name} label={name.replace(/_/g, " ")} block={typeof value === "object"}>
                {typeof value === "object" ? <pre className="code code-light">{showValue(name, value)}</pre> : showValue(name, value)}
              </Fact>
            ))}
          </dl>
        </section>
      )}

      <div className="grid-2">
        <section className="card" aria-labelledby="conv-title">
          <h3 id="conv-title">Conversation</h3>
          <Messages messages={r.request_messages} />
        </section>
        <section className="card" aria-labelledby="resp-title">
          <h3 id="resp-title">Response</h3>
          {r.reasoning_text && (
            <details className="reasoning">
              <summary>Reasoning ({formatInt(r.reasoning_tokens)} tokens)</summary>
              <div className="message-content">{r.reasoning_text}</div>
            </details>
          )}
          {r.response_text ? (
            <div className="message message-assistant">
              <span className="message-role">assistant</span>
              <div className="message-content" data-testid="detail-response">
                {r.response_text}
              </div>
            </div>
          ) : (
            !r.tool_calls && <p className="muted">{r.status === "error" ? "No response: the call failed." : "No text in the response."}</p>
          )}
          {r.tool_calls !== null && r.tool_calls !== undefined && (
            <>
              <h4>Tool calls</h4>
              <pre className="code">{JSON.stringify(r.tool_calls, null, 2)}</pre>
            </>
          )}
        </section>
      </div>
    </article>
  );
}
