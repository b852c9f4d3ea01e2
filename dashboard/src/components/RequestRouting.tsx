// How a request was routed: its upstream attempts (with panic routing marked)
// and, when a learned routing pool chose the model, that decision.
import { ApiError, api, type RouteAttempt, type RoutingDecision } from "../api";
import { useLoad } from "../hooks";
import { exactUsd, formatUsd } from "../money";
import { ErrorBox, Fact, formatMs } from "./common";

export function Attempts({ attempts }: { attempts: RouteAttempt[] }) {
  return (
    <section className="card" aria-labelledby="attempts-title">
      <h3 id="attempts-title">Attempts</h3>
      <div className="table-wrap">
        <table className="table" data-testid="detail-attempts">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Deployment</th>
              <th scope="col">Model</th>
              <th scope="col" className="num">
                Status
              </th>
              <th scope="col" className="num">
                Latency
              </th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                <td>
                  <span className="mono">{a.deployment}</span>
                  {a.panic && (
                    <>
                      {" "}
                      <span
                        className="badge badge-bad"
                        title="Panic routing: every deployment of the model was open (circuit breaker), so the router called this one anyway."
                        data-testid="attempt-panic"
                      >
                        panic · circuit open
                      </span>
                    </>
                  )}
                </td>
                <td className="mono">{[a.provider, a.model].filter(Boolean).join(" / ") || "—"}</td>
                <td className="num">{a.status ?? "—"}</td>
                <td className="num">{formatMs(a.latency_ms)}</td>
                <td>{a.error ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function percent(p: number): string {
  return `${(p * 100).toFixed(p > 0 && p < 0.01 ? 2 : 1)} %`;
}

/** The learned-routing decision of a request; nothing when no pool made one (404). */
export function RoutingDecisionCard({ apiKey, id }: { apiKey: string; id: string }) {
  const [decision, reload] = useLoad(
    (signal) =>
      api<RoutingDecision>(apiKey, `/v1/analytics/routing/decisions/${encodeURIComponent(id)}`, { signal }).catch(
        (error: unknown) => {
          if (error instanceof ApiError && (error.status === 404 || error.status === 422)) return null;
          throw error;
        },
      ),
    [apiKey, id],
  );
  if (decision.state === "error")
    return (
      <section className="card" aria-labelledby="decision-title">
        <h3 id="decision-title">Routing decision</h3>
        <ErrorBox error={decision.error} onRetry={reload} />
      </section>
    );
  const d = decision.data;
  if (!d) return null;
  return (
    <section className="card" aria-labelledby="decision-title" data-testid="detail-decision">
      <h3 id="decision-title">Routing decision</h3>
      <dl className="facts facts-wide">
        <Fact label="Pool">
          <span className="mono">{d.pool}</span>
        </Fact>
        <Fact label="Task class">
          <span className="mono">{d.task_class}</span>
        </Fact>
        <Fact label="Chosen model" testId="decision-chosen">
          <span className="mono">{d.chosen_model}</span> ({percent(d.probability)}
          {d.explored ? ", explored" : ""})
        </Fact>
        {d.answered_by && d.answered_by !== d.chosen_model && (
          <Fact label="Answered by">
            <span className="mono">{d.answered_by}</span>
          </Fact>
        )}
        <Fact label="Default model">
          <span className="mono">{d.default_model}</span> ({percent(d.default_probability)})
        </Fact>
        <Fact label="Quality">{d.quality === null ? "not known yet" : `${d.quality.toFixed(2)} (${d.quality_source})`}</Fact>
        <Fact label="Reason" testId="decision-reason" block>
          {d.reason}
        </Fact>
      </dl>
      <table className="table" data-testid="decision-candidates">
        <caption className="muted small">Candidates</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" className="num">
              Probability
            </th>
            <th scope="col" className="num">
              Estimated cost
            </th>
          </tr>
        </thead>
        <tbody>
          {d.candidates.map((c) => (
            <tr key={c.model} aria-current={c.model === d.chosen_model ? "true" : undefined}>
              <td className="mono">
                {c.model}
                {c.model === d.chosen_model ? " ✓" : ""}
              </td>
              <td className="num">{c.probability === undefined ? "—" : percent(c.probability)}</td>
              <td className="num" title={exactUsd(c.estimated_cost_usd)}>
                {formatUsd(c.estimated_cost_usd)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
