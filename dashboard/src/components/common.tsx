import type { ReactNode } from "react";
import { describeError } from "../api";

/** One labelled value of a `<dl className="facts">`. */
export function Fact({ label, children, testId, block }: { label: string; children: ReactNode; testId?: string; block?: boolean }) {
  return (
    <div className={block ? "fact fact-block" : "fact"}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert" data-testid="error">
      <strong>Something went wrong.</strong>
      <p>{describeError(error)}</p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty" data-testid="empty">
      <strong>{title}</strong>
      {children}
    </div>
  );
}

export function StatCard(props: {
  label: string;
  value: string;
  hint?: string;
  title?: string;
  testId: string;
  exact?: string;
  tone?: "good" | "warn";
}) {
  return (
    <section className={`card stat ${props.tone ? `stat-${props.tone}` : ""}`} aria-label={props.label}>
      <h3 className="stat-label">{props.label}</h3>
      <p className="stat-value" data-testid={props.testId} data-exact={props.exact} title={props.title}>
        {props.value}
      </p>
      {props.hint && <p className="stat-hint">{props.hint}</p>}
    </section>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone = status === "success" ? "ok" : status === "error" ? "bad" : "neutral";
  return <span className={`badge badge-${tone}`}>{status}</span>;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZone: "UTC",
  });
}

export function formatDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}
