import { useState, type FormEvent } from "react";
import { api, describeError, type ApiKey } from "../api";
import { dec } from "../money";

/** Change a key's rate limits and budget (PATCH /v1/admin/keys/{id}); an empty field clears it. */
export function KeyLimitsForm(props: { apiKey: string; k: ApiKey; onDone: (changed: boolean) => void }) {
  const { k } = props;
  const [rpm, setRpm] = useState(k.rpm_limit?.toString() ?? "");
  const [tpm, setTpm] = useState(k.tpm_limit?.toString() ?? "");
  const [budget, setBudget] = useState(k.budget_usd ?? "");
  const [period, setPeriod] = useState<"day" | "month" | "total">(k.budget_period ?? "month");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (budget.trim() && dec(budget.trim()) === null) {
      setError("The budget must be a number of dollars, e.g. 25 or 12.50.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api(props.apiKey, `/v1/admin/keys/${encodeURIComponent(k.id)}`, {
        method: "PATCH",
        body: {
          rpm_limit: rpm.trim() ? Number(rpm) : null,
          tpm_limit: tpm.trim() ? Number(tpm) : null,
          budget_usd: budget.trim() || null, // a decimal string: never a float
          budget_period: budget.trim() ? period : null,
        },
      });
      props.onDone(true);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <form className="limits-form" onSubmit={save} aria-label={`Limits of ${k.name}`}>
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
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : "Save limits"}
        </button>
        <button type="button" className="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
