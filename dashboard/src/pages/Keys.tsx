import Decimal from "decimal.js";
import { Fragment, useState, type FormEvent } from "react";
import { ApiError, api, describeError, type ApiKey, type NewKey } from "../api";
import { Empty, ErrorBox, Loading, formatDateTime } from "../components/common";
import { KeyLimitsForm } from "../components/KeyLimitsForm";
import { useLoad } from "../hooks";
import { dec, exactUsd, formatInt, formatUsd } from "../money";

function keyState(key: ApiKey): { label: string; tone: string } {
  if (key.revoked_at || !key.is_active) return { label: "revoked", tone: "bad" };
  if (key.expires_at && Date.parse(key.expires_at) < Date.now()) return { label: "expired", tone: "neutral" };
  return { label: "active", tone: "ok" };
}

function Budget({ k }: { k: ApiKey }) {
  const spend = dec(k.spend_usd) ?? new Decimal(0);
  const budget = dec(k.budget_usd);
  if (budget === null) return <span title={exactUsd(k.spend_usd)}>{formatUsd(spend)} <span className="muted">· no budget</span></span>;
  const share = budget.isZero() ? 100 : Math.min(100, spend.dividedBy(budget).times(100).toNumber());
  return (
    <div className="budget" title={`${exactUsd(k.spend_usd)} of ${exactUsd(k.budget_usd)}`}>
      <span>
        {formatUsd(spend)} / {formatUsd(budget)} <span className="muted">{k.budget_period === "total" ? "total" : `per ${k.budget_period ?? "period"}`}</span>
      </span>
      <span className="bar" role="meter" aria-label="Budget used" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(share)}>
        <span className={share >= 90 ? "bar-fill bar-warn" : "bar-fill"} style={{ width: `${share}%` }} />
      </span>
    </div>
  );
}

function Limits({ k }: { k: ApiKey }) {
  const limits = [
    k.rpm_limit ? `${formatInt(k.rpm_limit)} requests/min` : null,
    k.tpm_limit ? `${formatInt(k.tpm_limit)} tokens/min` : null,
  ].filter(Boolean);
  return (
    <>
      {limits.length ? limits.map((l) => <div key={l}>{l}</div>) : <span className="muted">no rate limits</span>}
      {k.allowed_models && k.allowed_models.length > 0 && <div className="muted">models: {k.allowed_models.join(", ")}</div>}
    </>
  );
}

function optionalInt(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

function CreateKey({ apiKey, onCreated }: { apiKey: string; onCreated: (key: NewKey) => void }) {
  const [name, setName] = useState("");
  const [owner, setOwner] = useState("");
  const [admin, setAdmin] = useState(false);
  const [models, setModels] = useState("");
  const [rpm, setRpm] = useState("");
  const [tpm, setTpm] = useState("");
  const [budget, setBudget] = useState("");
  const [period, setPeriod] = useState<"day" | "month" | "total">("month");
  const [expires, setExpires] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (budget.trim() && dec(budget.trim()) === null) {
      setError("The budget must be a number of dollars, e.g. 25 or 12.50.");
      return;
    }
    setBusy(true);
    try {
      const allowed = models.split(",").map((m) => m.trim()).filter(Boolean);
      const created = await api<NewKey>(apiKey, "/v1/admin/keys", {
        method: "POST",
        body: {
          name: name.trim(),
          owner: owner.trim() || undefined,
          is_admin: admin,
          allowed_models: allowed.length ? allowed : undefined,
          rpm_limit: optionalInt(rpm),
          tpm_limit: optionalInt(tpm),
          budget_usd: budget.trim() || undefined, // a decimal string: never a float
          budget_period: budget.trim() ? period : undefined,
          expires_at: expires ? `${expires}T23:59:59Z` : undefined,
        },
      });
      onCreated(created);
      setName("");
      setOwner("");
      setModels("");
      setRpm("");
      setTpm("");
      setBudget("");
      setExpires("");
      setAdmin(false);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="create-title">
      <h2 id="create-title">Create a key</h2>
      <form className="key-form" onSubmit={submit}>
        <label>
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} data-testid="key-name" />
        </label>
        <label>
          <span>Owner</span>
          <input value={owner} onChange={(e) => setOwner(e.target.value)} placeholder="optional" />
        </label>
        <label>
          <span>Allowed models</span>
          <input value={models} onChange={(e) => setModels(e.target.value)} placeholder="all (or a comma-separated list)" />
        </label>
        <label>
          <span>Requests / minute</span>
          <input type="number" min={1} value={rpm} onChange={(e) => setRpm(e.target.value)} placeholder="no limit" />
        </label>
        <label>
          <span>Tokens / minute</span>
          <input type="number" min={1} value={tpm} onChange={(e) => setTpm(e.target.value)} placeholder="no limit" />
        </label>
        <label>
          <span>Budget (USD)</span>
          <input inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="no budget" />
        </label>
        <label>
          <span>Budget period</span>
          <select value={period} onChange={(e) => setPeriod(e.target.value as typeof period)}>
            <option value="day">per day</option>
            <option value="month">per month</option>
            <option value="total">in total</option>
          </select>
        </label>
        <label>
          <span>Expires</span>
          <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
          <span>Admin key</span>
        </label>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || !name.trim()} data-testid="key-create">
            {busy ? "Creating…" : "Create key"}
          </button>
        </div>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

function NewKeyBanner({ created, onDismiss }: { created: NewKey; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section className="card new-key" role="status" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Key “{created.name}” created</h2>
      <p>Copy it now: it is shown only once and cannot be recovered.</p>
      <div className="copy-row">
        <code data-testid="new-key">{created.key}</code>
        <button
          type="button"
          className="button button-primary"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(created.key);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" className="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </section>
  );
}

export function Keys({ apiKey, myId }: { apiKey: string; myId: string }) {
  const [keys, reload] = useLoad((signal) => api<{ data: ApiKey[] }>(apiKey, "/v1/admin/keys", { signal }), [apiKey]);
  const [created, setCreated] = useState<NewKey | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  if (keys.state === "error" && keys.error instanceof ApiError && (keys.error.status === 404 || keys.error.status === 405))
    return (
      <Empty title="Key management is not available on this server">
        <p>
          This router has no <code>/v1/admin/keys</code> API. Use <code>model-router keys create</code> and <code>model-router keys list</code>.
        </p>
      </Empty>
    );
  if (keys.state === "error") return <ErrorBox error={keys.error} onRetry={reload} />;
  if (!keys.data) return <Loading label="Loading keys…" />;

  async function revoke(key: ApiKey) {
    if (!window.confirm(`Revoke “${key.name}” (${key.prefix}…)? Calls with it will be refused.`)) return;
    setActionError(null);
    try {
      await api(apiKey, `/v1/admin/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      reload();
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  return (
    <div>
      {created && <NewKeyBanner created={created} onDismiss={() => setCreated(null)} />}
      <CreateKey
        apiKey={apiKey}
        onCreated={(key) => {
          setCreated(key);
          reload();
        }}
      />
      {actionError && (
        <p className="field-error" role="alert">
          {actionError}
        </p>
      )}
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        {keys.data.data.length === 0 ? (
          <p className="muted">No keys yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Limits</th>
                  <th scope="col">Spend / budget</th>
                  <th scope="col" className="hide-narrow">Expires</th>
                  <th scope="col" className="hide-narrow">Created</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.data.map((k) => {
                  const state = keyState(k);
                  return (
                    <Fragment key={k.id}>
                    <tr data-key-id={k.id}>
                      <td>
                        <strong>{k.name}</strong>
                        {k.is_admin && <span className="badge badge-admin">admin</span>}
                        {k.owner && <div className="muted small">{k.owner}</div>}
                      </td>
                      <td className="mono">{k.prefix}…</td>
                      <td>
                        <span className={`badge badge-${state.tone}`}>{state.label}</span>
                      </td>
                      <td className="small">
                        <Limits k={k} />
                      </td>
                      <td>
                        <Budget k={k} />
                      </td>
                      <td className="hide-narrow small nowrap">{k.expires_at ? formatDateTime(k.expires_at) : "never"}</td>
                      <td className="hide-narrow small nowrap">{formatDateTime(k.created_at)}</td>
                      <td>
                        <div className="row-actions">
                          {state.label !== "revoked" && k.id !== myId && (
                            <button
                              type="button"
                              className="button"
                              aria-expanded={editing === k.id}
                              onClick={() => setEditing(editing === k.id ? null : k.id)}
                              aria-label={`Edit limits of ${k.name}`}
                            >
                              Limits
                            </button>
                          )}
                          {k.id === myId ? (
                            <span className="muted small">this key</span>
                          ) : state.label !== "revoked" && (
                            <button type="button" className="button button-danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
                              Revoke
                            </button>
                          )}
                        </div>
                      </td>
                    </tr>
                    {editing === k.id && (
                      <tr className="edit-row">
                        <td colSpan={8}>
                          <KeyLimitsForm
                            apiKey={apiKey}
                            k={k}
                            onDone={(changed) => {
                              setEditing(null);
                              if (changed) reload();
                            }}
                          />
                        </td>
                      </tr>
                    )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
