// Learned routing pools (admin): what each pool chose per task class, at what
// quality and cost, and what it saved against always sending to the default model.
import { useState } from "react";
import { api, type ModelChoice, type PolicyValue, type PoolReport, type PoolSummary, type QualityEstimate, type UsdEstimate } from "../api";
import { Empty, ErrorBox, Loading, StatCard } from "../components/common";
import { useLoad } from "../hooks";
import { exactUsd, formatInt, formatUsd } from "../money";

export const DAY_OPTIONS = [1, 7, 30, 90];

export function formatQuality(q: QualityEstimate | null): string {
  if (!q) return "—";
  const interval = q.low === null || q.high === null ? "too few samples for an interval" : `${q.low.toFixed(2)}–${q.high.toFixed(2)}`;
  return `${q.estimate.toFixed(2)} (${interval})`;
}

export function formatUsdEstimate(u: UsdEstimate | null): string {
  if (!u) return "—";
  const interval = u.low === null || u.high === null ? "too few samples for an interval" : `${formatUsd(u.low)} to ${formatUsd(u.high)}`;
  return `${formatUsd(u.estimate)} (${interval})`;
}

function share(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

/** The savings sentence: policy vs always sending to the default model, off-policy. */
function Savings({ value, testId }: { value: PolicyValue; testId: string }) {
  const per = value.savings_per_request_usd;
  const total = value.savings_total_usd;
  return (
    <div className="savings" data-testid={testId}>
      {per ? (
        <p>
          Against always sending to <span className="mono">{value.default_model}</span>: saved{" "}
          <strong title={exactUsd(per.estimate)}>{formatUsdEstimate(per)}</strong> per request
          {total && (
            <>
              , <strong title={exactUsd(total.estimate)}>{formatUsdEstimate(total)}</strong> in total
            </>
          )}
          ; quality difference {formatQuality(value.quality_difference)}.
        </p>
      ) : (
        <p>No request with a known cost yet: no savings estimate.</p>
      )}
      <p className="muted small">
        Estimated from logged probabilities (off-policy), with 95 % intervals: what the default model would have cost is
        inferred from the requests the pool sent it and its pre-call cost estimates.
        {value.default_never_possible > 0 &&
          ` ${formatInt(value.default_never_possible)} decisions could never have gone to the default model; the estimate cannot speak for those.`}
      </p>
    </div>
  );
}

function ModelTable({ models }: { models: ModelChoice[] }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" className="num">
              Share of traffic
            </th>
            <th scope="col" className="num">
              Requests (explored)
            </th>
            <th scope="col">Quality (95 % interval)</th>
            <th scope="col">Cost per request (95 % interval)</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.model}>
              <td className="mono">{m.model}</td>
              <td className="num">{share(m.share)}</td>
              <td className="num">
                {formatInt(m.requests)} ({formatInt(m.explored)})
              </td>
              <td>{formatQuality(m.quality)}</td>
              <td title={m.cost_per_request_usd ? exactUsd(m.cost_per_request_usd.estimate) : undefined}>
                {formatUsdEstimate(m.cost_per_request_usd)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Report({ report }: { report: PoolReport }) {
  if (report.requests === 0)
    return (
      <Empty title="No decisions in this range">
        <p>Requests that name the pool as their model appear here.</p>
      </Empty>
    );
  const per = report.overall.savings_per_request_usd;
  return (
    <div data-testid="pool-report">
      <div className="stats">
        <StatCard label="Requests" value={formatInt(report.requests)} testId="pool-requests" />
        <StatCard
          label="Explored"
          value={share(report.explored_share)}
          hint={`${formatInt(report.explored)} requests, ${formatUsd(report.exploration_spend_usd)} extra spend`}
          testId="pool-explored"
        />
        <StatCard
          label="Est. savings / request"
          value={per ? formatUsd(per.estimate) : "—"}
          exact={per?.estimate}
          hint={`vs ${report.default_model}, estimated`}
          testId="pool-savings"
          tone={per && Number(per.estimate) > 0 ? "good" : undefined}
        />
      </div>
      <section className="card" aria-labelledby="overall-title">
        <h3 id="overall-title">Overall</h3>
        <Savings value={report.overall} testId="savings-overall" />
        {report.cost_unknown > 0 && (
          <p className="muted small">{formatInt(report.cost_unknown)} decisions with an unknown cost are left out of costs.</p>
        )}
      </section>
      {report.classes.map((c) => (
        <section className="card" key={c.task_class} aria-label={`Task class ${c.task_class}`} data-testid="pool-class">
          <h3>
            <span className="mono">{c.task_class}</span> <span className="muted small">· {formatInt(c.requests)} requests</span>
          </h3>
          <ModelTable models={c.models} />
          <Savings value={c.value} testId="savings-class" />
        </section>
      ))}
    </div>
  );
}

export function Routing({ apiKey }: { apiKey: string }) {
  const [chosen, setChosen] = useState("");
  const [days, setDays] = useState(7);
  const [pools, reloadPools] = useLoad(
    (signal) => api<{ pools: PoolSummary[] }>(apiKey, "/v1/analytics/routing/pools", { signal }),
    [apiKey],
  );
  const list = pools.data?.pools ?? [];
  const pool = list.find((p) => p.name === chosen) ?? list[0];
  const [report, reloadReport] = useLoad(
    (signal) =>
      pool
        ? api<PoolReport>(apiKey, `/v1/analytics/routing/pools/${encodeURIComponent(pool.name)}`, { params: { days }, signal })
        : Promise.resolve(null),
    [apiKey, pool?.name, days],
  );

  if (pools.state === "error") return <ErrorBox error={pools.error} onRetry={reloadPools} />;
  if (!pools.data) return <Loading label="Loading the routing pools…" />;
  if (!pool)
    return (
      <Empty title="No learned routing pools">
        <p>
          Add a <code>pools:</code> section to the routing file (see docs/learned-routing.md): callers then send a pool's name as
          the model, and the router learns which candidate serves each kind of request best.
        </p>
      </Empty>
    );

  return (
    <div>
      <form className="filters card" aria-label="Pool and range" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Pool</span>
          <select value={pool.name} onChange={(e) => setChosen(e.target.value)} data-testid="pool-picker">
            {list.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Range</span>
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="pool-days">
            {DAY_OPTIONS.map((n) => (
              <option key={n} value={n}>
                {n === 1 ? "Last 24 hours" : `Last ${n} days`}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small" data-testid="pool-candidates">
          Candidates: <span className="mono">{pool.candidates.join(", ")}</span> · default{" "}
          <span className="mono">{pool.default_model}</span>
        </p>
      </form>
      {report.state === "error" ? (
        <ErrorBox error={report.error} onRetry={reloadReport} />
      ) : !report.data ? (
        <Loading label="Loading the report…" />
      ) : (
        <div className={report.state === "loading" ? "is-stale" : undefined}>
          <Report report={report.data} />
        </div>
      )}
    </div>
  );
}
