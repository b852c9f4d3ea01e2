import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getSortedRowModel,
  useReactTable,
  type SortingState,
} from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { api, type CatalogueModel } from "../api";
import { Empty, ErrorBox, Loading } from "../components/common";
import { useLoad } from "../hooks";
import { compareMoney, estimateCost, exactUsd, formatInt, formatUsd } from "../money";

const column = createColumnHelper<CatalogueModel>();

function price(value: string | null) {
  return value === null ? <span className="muted">unknown</span> : <span title={exactUsd(value)}>${value}</span>;
}

function tokensOf(text: string): number {
  const n = Number(text.replace(/[,_\s]/g, ""));
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

export function Calculator({ models }: { models: CatalogueModel[] }) {
  const priced = models.filter((m) => m.input_price_per_1m_tokens !== null && m.output_price_per_1m_tokens !== null);
  const [modelId, setModelId] = useState(priced.find((m) => m.model_id === "gpt-4o-mini")?.uuid ?? priced[0]?.uuid ?? "");
  const [input, setInput] = useState("1000");
  const [output, setOutput] = useState("500");
  const [cached, setCached] = useState("0");
  const [calls, setCalls] = useState("1");
  const model = models.find((m) => m.uuid === modelId);
  const estimate = model ? estimateCost(model, tokensOf(input), tokensOf(output), tokensOf(cached)) : null;
  const times = Math.max(tokensOf(calls), 0);

  return (
    <section className="card calculator" aria-labelledby="calc-title">
      <h2 id="calc-title">Price calculator</h2>
      <form className="calc-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Model</span>
          <select value={modelId} onChange={(e) => setModelId(e.target.value)} data-testid="calc-model">
            {priced.map((m) => (
              <option key={m.uuid} value={m.uuid}>
                {m.model_id} ({m.provider})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Input tokens</span>
          <input inputMode="numeric" value={input} onChange={(e) => setInput(e.target.value)} data-testid="calc-input" />
        </label>
        <label>
          <span>of which cached</span>
          <input inputMode="numeric" value={cached} onChange={(e) => setCached(e.target.value)} />
        </label>
        <label>
          <span>Output tokens</span>
          <input inputMode="numeric" value={output} onChange={(e) => setOutput(e.target.value)} data-testid="calc-output" />
        </label>
        <label>
          <span>Calls</span>
          <input inputMode="numeric" value={calls} onChange={(e) => setCalls(e.target.value)} />
        </label>
      </form>
      <div className="calc-result" aria-live="polite">
        {estimate ? (
          <>
            <div>
              <span className="muted">Per call</span>
              <strong data-testid="calc-total">{exactUsd(estimate.total.toFixed())}</strong>
              <span className="muted small">
                input {exactUsd(estimate.input.toFixed())} + output {exactUsd(estimate.output.toFixed())}
              </span>
            </div>
            {times !== 1 && (
              <div>
                <span className="muted">{formatInt(times)} calls</span>
                <strong>{formatUsd(estimate.total.times(times))}</strong>
              </div>
            )}
          </>
        ) : (
          <span className="muted">Pick a priced model.</span>
        )}
      </div>
      <p className="muted small">Base rates per 1M tokens; long-context tiers and off-peak discounts are applied by the router per call.</p>
    </section>
  );
}

export function Models({ apiKey }: { apiKey: string }) {
  const [catalogue, reload] = useLoad(
    (signal) => api<CatalogueModel[]>(apiKey, "/v1/analytics/models", { signal }),
    [apiKey],
  );
  const [sorting, setSorting] = useState<SortingState>([{ id: "provider", desc: false }]);
  const [filter, setFilter] = useState("");
  const [showInactive, setShowInactive] = useState(false);
  const rows = useMemo(
    () => (catalogue.data ?? []).filter((m) => showInactive || m.is_active),
    [catalogue.data, showInactive],
  );

  const columns = useMemo(() => {
    const money = (a: string | null, b: string | null) => compareMoney(a, b);
    return [
      column.accessor("model_id", {
        header: "Model",
        cell: (i) => (
          <>
            <span className="mono">{i.getValue()}</span>
            <span className="show-narrow muted small">{i.row.original.provider}</span>
          </>
        ),
      }),
      column.accessor("provider", { header: "Provider", meta: { className: "hide-narrow" } }),
      column.accessor((m) => m.input_price_per_1m_tokens ?? undefined, {
        id: "input_price_per_1m_tokens",
        header: "Input / 1M",
        cell: (i) => price(i.getValue() ?? null),
        sortingFn: (a, b, id) => money(a.getValue<string>(id), b.getValue<string>(id)),
        sortUndefined: "last",
        meta: { className: "num" },
      }),
      column.accessor((m) => m.output_price_per_1m_tokens ?? undefined, {
        id: "output_price_per_1m_tokens",
        header: "Output / 1M",
        cell: (i) => price(i.getValue() ?? null),
        sortingFn: (a, b, id) => money(a.getValue<string>(id), b.getValue<string>(id)),
        sortUndefined: "last",
        meta: { className: "num" },
      }),
      column.accessor((m) => m.cached_input_price_per_1m_tokens ?? undefined, {
        id: "cached_input_price_per_1m_tokens",
        header: "Cached input / 1M",
        cell: (i) => price(i.getValue() ?? null),
        sortingFn: (a, b, id) => money(a.getValue<string>(id), b.getValue<string>(id)),
        sortUndefined: "last",
        meta: { className: "num hide-narrow" },
      }),
      column.accessor((m) => m.context_window ?? undefined, {
        id: "context_window",
        header: "Context",
        cell: (i) => formatInt(i.getValue()),
        sortUndefined: "last",
        meta: { className: "num hide-narrow" },
      }),
      column.accessor((m) => m.max_output_tokens ?? undefined, {
        id: "max_output_tokens",
        header: "Max output",
        cell: (i) => formatInt(i.getValue()),
        sortUndefined: "last",
        meta: { className: "num hide-narrow" },
      }),
      column.accessor("is_active", {
        header: "Status",
        cell: (i) => <span className={`badge ${i.getValue() ? "badge-ok" : "badge-neutral"}`}>{i.getValue() ? "active" : "disabled"}</span>,
        meta: { className: "hide-narrow" },
      }),
    ];
  }, []);

  const table = useReactTable({
    data: rows,
    columns,
    state: { sorting, globalFilter: filter },
    onSortingChange: setSorting,
    onGlobalFilterChange: setFilter,
    globalFilterFn: (row, _id, value: string) =>
      `${row.original.model_id} ${row.original.provider} ${row.original.display_name}`.toLowerCase().includes(value.toLowerCase()),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
  });

  if (catalogue.state === "error") return <ErrorBox error={catalogue.error} onRetry={reload} />;
  if (!catalogue.data) return <Loading label="Loading the catalogue…" />;
  if (catalogue.data.length === 0)
    return (
      <Empty title="The catalogue is empty">
        <p>
          Run <code>model-router models sync</code> to load the models and their prices.
        </p>
      </Empty>
    );

  return (
    <div>
      <Calculator models={catalogue.data.filter((m) => m.is_active)} />
      <section className="card" aria-labelledby="catalogue-title">
        <div className="table-head">
          <h2 id="catalogue-title">Catalogue</h2>
          <div className="table-tools">
            <label className="inline">
              <span className="visually-hidden">Filter models</span>
              <input type="search" placeholder="Filter models" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="models-filter" />
            </label>
            <label className="inline checkbox">
              <input type="checkbox" checked={showInactive} onChange={(e) => setShowInactive(e.target.checked)} />
              <span>Show disabled</span>
            </label>
          </div>
        </div>
        <div className="table-wrap">
          <table className="table" data-testid="models-table">
            <thead>
              {table.getHeaderGroups().map((group) => (
                <tr key={group.id}>
                  {group.headers.map((header) => {
                    const sorted = header.column.getIsSorted();
                    const meta = header.column.columnDef.meta as { className?: string } | undefined;
                    return (
                      <th
                        key={header.id}
                        scope="col"
                        className={meta?.className}
                        aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none"}
                      >
                        <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()} data-testid={`models-sort-${header.column.id}`}>
                          {flexRender(header.column.columnDef.header, header.getContext())}
                          <span aria-hidden="true" className="sort-icon">
                            {sorted === "desc" ? "▼" : sorted === "asc" ? "▲" : "↕"}
                          </span>
                        </button>
                      </th>
                    );
                  })}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((row) => (
                <tr key={row.id}>
                  {row.getVisibleCells().map((cell) => {
                    const meta = cell.column.columnDef.meta as { className?: string } | undefined;
                    return (
                      <td key={cell.id} className={meta?.className}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">{formatInt(table.getRowModel().rows.length)} models · prices in USD per 1M tokens</p>
      </section>
    </div>
  );
}
