import Decimal from "decimal.js";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { api, type CatalogueModel, type Usage } from "../api";
import { Empty, ErrorBox, Loading, StatCard, formatDay, formatMs } from "../components/common";
import { useLoad } from "../hooks";
import { dec, exactUsd, formatInt, formatUsd } from "../money";
import { usageParams, type Range } from "../range";

const COLORS = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#f97316", "#64748b"];

/** Optional money fields other features add to the usage summary, e.g. `saved_by_cache_usd`. */
export function savingsOf(usage: Usage): { label: string; field: string; value: string; hint?: string }[] {
  return Object.entries(usage)
    .filter(([field, value]) => /sav(ed|ing|ings)/.test(field) && field.endsWith("_usd") && typeof value === "string")
    .map(([field, value]) => ({ field, value: value as string, label: savingLabel(field), hint: savingHint(field, usage) }));
}

function savingHint(field: string, usage: Usage): string | undefined {
  if (/cache/.test(field) && typeof usage.cache_hits === "number") {
    const rate = typeof usage.cache_hit_rate === "number" ? ` · ${usage.cache_hit_rate}% hit rate` : "";
    return `${formatInt(usage.cache_hits)} cache hits${rate}`;
  }
  if (/rout/.test(field) && typeof usage.auto_routed_requests === "number") {
    return `${formatInt(usage.auto_routed_requests)} requests routed automatically`;
  }
  return undefined;
}

function savingLabel(field: string): string {
  const words = field.replace(/_usd$/, "").split("_");
  const text = words.join(" ");
  if (/routing/.test(text)) return "Saved by routing";
  if (/cache/.test(text)) return "Saved by cache";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function usd(value: number): string {
  return formatUsd(new Decimal(value));
}

/** Axis ticks: short, two significant digits for small amounts. */
function axisUsd(value: number): string {
  if (value === 0 || Math.abs(value) >= 0.01) return usd(value);
  return `$${new Decimal(value).toSignificantDigits(2).toFixed()}`;
}

export function Overview({ apiKey, range, userId }: { apiKey: string; range: Range; userId: string }) {
  const [usage, reload] = useLoad(
    (signal) => api<Usage>(apiKey, "/v1/analytics/usage", { params: { ...usageParams(range), user_id: userId }, signal }),
    [apiKey, range.preset, range.start, range.end, userId],
  );
  // Models without a price: their cost is unknown, not $0 (the usage API sums known costs only).
  const [catalogue] = useLoad(
    (signal) => api<CatalogueModel[]>(apiKey, "/v1/analytics/models", { signal }),
    [apiKey],
  );
  const unpriced = new Set(
    (catalogue.data ?? [])
      .filter((m) => m.input_price_per_1m_tokens === null || m.output_price_per_1m_tokens === null)
      .map((m) => `${m.model_id}/${m.provider}`),
  );
  if (usage.state === "error") return <ErrorBox error={usage.error} onRetry={reload} />;
  if (!usage.data) return <Loading label="Loading usage…" />;
  const data = usage.data;
  const stale = usage.state === "loading";
  const savings = savingsOf(data);

  const daily = data.daily_stats.map((d) => ({
    day: formatDay(d.date),
    cost: dec(d.total_cost_usd)?.toNumber() ?? 0,
    succeeded: d.successful_requests,
    failed: d.failed_requests,
  }));
  const byModel = data.by_model
    .map((m) => ({ name: m.model, cost: dec(m.total_cost_usd)?.toNumber() ?? 0, requests: m.requests }))
    .sort((a, b) => b.cost - a.cost)
    .slice(0, 10);
  const byProvider = data.by_provider
    .map((p) => ({ name: p.provider ?? "unknown", cost: dec(p.total_cost_usd)?.toNumber() ?? 0, requests: p.requests }))
    .filter((p) => p.cost > 0 || p.requests > 0)
    .sort((a, b) => b.cost - a.cost);

  return (
    <div className={stale ? "is-stale" : undefined} aria-busy={stale}>
      <div className="stats" data-testid="overview-stats">
        <StatCard
          label="Total cost"
          testId="stat-cost"
          value={formatUsd(data.total_cost_usd)}
          exact={data.total_cost_usd}
          title={`Exactly ${exactUsd(data.total_cost_usd)}`}
          hint={
            data.requests_with_unknown_cost
              ? `${formatInt(data.requests_with_unknown_cost)} requests without a known price are not included`
              : `${formatInt(data.total_tokens)} tokens`
          }
        />
        <StatCard
          label="Requests"
          testId="stat-requests"
          value={formatInt(data.total_requests)}
          exact={String(data.total_requests)}
          hint={`${formatInt(data.failed_requests)} failed`}
        />
        <StatCard
          label="Average latency"
          testId="stat-latency"
          value={formatMs(data.average_latency_ms)}
          exact={data.average_latency_ms === null ? "" : String(data.average_latency_ms)}
          hint="per request, end to end"
        />
        <StatCard
          label="Success rate"
          testId="stat-success"
          value={data.total_requests ? `${data.success_rate_percent.toFixed(1)}%` : "—"}
          exact={String(data.success_rate_percent)}
          hint={`${formatInt(data.successful_requests)} succeeded`}
          tone={data.total_requests && data.success_rate_percent < 95 ? "warn" : undefined}
        />
        {savings.map((s) => (
          <StatCard
            key={s.field}
            label={s.label}
            testId={`stat-${s.field}`}
            value={formatUsd(s.value)}
            exact={s.value}
            title={`Exactly ${exactUsd(s.value)}`}
            hint={s.hint}
            tone="good"
          />
        ))}
      </div>

      {data.total_requests === 0 ? (
        <Empty title="No requests in this range">
          <p>Send a request through the router and it shows up here within a second:</p>
          <pre className="code">{`curl ${window.location.origin}/v1/chat/completions \\
  -H "Authorization: Bearer $ROUTER_KEY" -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`}</pre>
        </Empty>
      ) : (
        <>
          <div className="grid-2">
            <section className="card chart" aria-labelledby="chart-cost">
              <h2 id="chart-cost">Cost per day</h2>
              <ResponsiveContainer width="100%" height={240}>
                <BarChart data={daily} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
                  <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={16} />
                  <YAxis tick={{ fontSize: 12 }} tickFormatter={axisUsd} width={72} />
                  <Tooltip formatter={(v) => [usd(Number(v)), "Cost"]} cursor={{ fill: "#eef2ff" }} />
                  <Bar dataKey="cost" fill="#4f46e5" radius={[3, 3, 0, 0]} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </section>
            <section className="card chart" aria-labelledby="chart-requests">
              <h2 id="chart-requests">Requests per day</h2>
              <ResponsiveContainer width="100%" height={240}>
                <BarChart data={daily} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
                  <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={16} />
                  <YAxis tick={{ fontSize: 12 }} allowDecimals={false} width={48} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="succeeded" stackId="r" fill="#10b981" name="Succeeded" isAnimationActive={false} />
                  <Bar dataKey="failed" stackId="r" fill="#ef4444" name="Failed" radius={[3, 3, 0, 0]} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </section>
          </div>
          <div className="grid-2">
            <section className="card chart" aria-labelledby="chart-models">
              <h2 id="chart-models">Cost by model</h2>
              <ResponsiveContainer width="100%" height={Math.max(160, byModel.length * 30 + 20)}>
                <BarChart data={byModel} layout="vertical" margin={{ top: 0, right: 16, left: 8, bottom: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} stroke="#e5e7eb" />
                  <XAxis type="number" tick={{ fontSize: 12 }} tickFormatter={axisUsd} />
                  <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={140} />
                  <Tooltip formatter={(v) => [usd(Number(v)), "Cost"]} />
                  <Bar dataKey="cost" fill="#4f46e5" radius={[0, 3, 3, 0]} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </section>
            <section className="card chart" aria-labelledby="chart-providers">
              <h2 id="chart-providers">Cost by provider</h2>
              <ResponsiveContainer width="100%" height={260}>
                <PieChart>
                  <Pie data={byProvider} dataKey="cost" nameKey="name" innerRadius="55%" outerRadius="85%" paddingAngle={2} isAnimationActive={false}>
                    {byProvider.map((entry, index) => (
                      <Cell key={entry.name} fill={COLORS[index % COLORS.length]} />
                    ))}
                  </Pie>
                  <Tooltip formatter={(v, name) => [usd(Number(v)), String(name)]} />
                  <Legend />
                </PieChart>
              </ResponsiveContainer>
            </section>
          </div>
          <section className="card" aria-labelledby="table-models">
            <h2 id="table-models">By model</h2>
            <div className="table-wrap">
              <table className="table" data-testid="by-model">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Provider</th>
                    <th scope="col" className="num">Requests</th>
                    <th scope="col" className="num">Input tokens</th>
                    <th scope="col" className="num">Output tokens</th>
                    <th scope="col" className="num">Avg latency</th>
                    <th scope="col" className="num">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {data.by_model.map((m) => (
                    <tr key={`${m.model}/${m.provider}`}>
                      <td className="mono">{m.model}</td>
                      <td>{m.provider ?? "—"}</td>
                      <td className="num">{formatInt(m.requests)}</td>
                      <td className="num">{formatInt(m.input_tokens)}</td>
                      <td className="num">{formatInt(m.output_tokens)}</td>
                      <td className="num">{formatMs(m.average_latency_ms)}</td>
                      {unpriced.has(`${m.model}/${m.provider}`) && dec(m.total_cost_usd)?.isZero() ? (
                        <td className="num muted" title="This model has no price in the catalogue">
                          unknown
                        </td>
                      ) : (
                        <td className="num" title={exactUsd(m.total_cost_usd)}>
                          {formatUsd(m.total_cost_usd)}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </div>
  );
}
