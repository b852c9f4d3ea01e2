import { useState, type FormEvent } from "react";
import { api, describeError, type Me } from "../api";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string, me: Me) => void; notice?: string | null }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(notice ?? null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Paste an API key to sign in.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api<Me>(trimmed, "/v1/analytics/me");
      onSignedIn(trimmed, me);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            M
          </span>
          model-router
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">
          Use an API key of this router (<code>mr-…</code>). <code>make run</code> prints an admin key the first time; <code>model-router keys create</code> makes more.
        </p>
        <label className="stack">
          <span>API key</span>
          <input
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="mr-…"
            aria-invalid={error !== null}
            aria-describedby={error ? "signin-error" : undefined}
            data-testid="signin-key"
            autoFocus
          />
        </label>
        {error && (
          <p className="field-error" id="signin-error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary button-block" disabled={busy} data-testid="signin-submit">
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p className="muted small">The key stays in this browser tab only and is forgotten when you sign out or close the tab.</p>
      </form>
    </main>
  );
}
