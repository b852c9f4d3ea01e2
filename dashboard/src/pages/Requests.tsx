import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type SortingState } from "@tanstack/react-table";
import { useEffect, useState } from "react";
import { FRONT_DOORS, api, frontDoorLabel, frontDoorTitle, type CatalogueModel, type RequestPage, type RequestSummary } from "../api";
import { Empty, ErrorBox, Loading, StatusBadge, formatDateTime, formatMs } from "../components/common";
import { useDebounced, useLoad } from "../hooks";
import { exactUsd, formatInt, formatUsd } from "../money";
import type { Range } from "../range";

export type SortField = "created_at" | "total_cost_usd" | "latency_ms";

export interface RequestFilters {
  model: string;
  status: "" | "success" | "error";
  search: string;
  tags: string; // as typed: "team=search, canary"
  frontDoor: string; // "" or chat_completions, messages, responses, embeddings
  page: number;
  perPage: number;
  sort: { field: SortField; desc: boolean };
}

export const DEFAULT_FILTERS: RequestFilters = {
  model: "",
  status: "",
  search: "",
  tags: "",
  frontDoor: "",
  page: 1,
  perPage: 20,
  sort: { field: "created_at", desc: true },
};

/** "team=search, canary" -> ["team=search", "canary"]: each must match (NAME or NAME=VALUE). */
export function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

const SORTABLE = new Set<string>(["created_at", "total_cost_usd", "latency_ms"]);
const SORT_OPTIONS: [string, string][] = [
  ["-created_at", "Newest first"],
  ["created_at", "Oldest first"],
  ["-total_cost_usd", "Most expensive"],
  ["total_cost_usd", "Cheapest"],
  ["-latency_ms", "Slowest"],
  ["latency_ms", "Fastest"],
];
const column = createColumnHelper<RequestSummary>();

const COLUMNS = [
  column.accessor("created_at", {
    header: "Time (UTC)",
    cell: (info) => formatDateTime(info.getValue()),
  }),
  column.accessor("model", { header: "Model", cell: (info) => <span className="mono">{info.getValue()}</span> }),
  column.accessor("front_door", {
    header: "API",
    cell: (info) => <span title={frontDoorTitle(info.getValue())}>{frontDoorLabel(info.getValue())}</span>,
  }),
  column.accessor("provider", { header: "Provider", cell: (info) => info.getValue() ?? "—", meta: { className: "hide-narrow" } }),
  column.accessor("status", { header: "Status", cell: (info) => <StatusBadge status={info.getValue()} /> }),
  column.accessor("total_tokens", {
    header: "Tokens",
    cell: (info) => (
      <span title={`${formatInt(info.row.original.input_tokens)} in, ${formatInt(info.row.original.output_tokens)} out`}>
        {formatInt(info.getValue())}
      </span>
    ),
    meta: { className: "num" },
  }),
  column.accessor("total_cost_usd", {
    header: "Cost",
    cell: (info) => <span title={exactUsd(info.getValue())}>{formatUsd(info.getValue())}</span>,
    meta: { className: "num" },
  }),
  column.accessor("latency_ms", { header: "Latency", cell: (info) => formatMs(info.getValue()), meta: { className: "num" } }),
  column.accessor("prompt_preview", {
    header: "Prompt",
    cell: (info) => <span className="preview">{info.row.original.error_message ?? info.getValue()}</span>,
    meta: { className: "hide-narrow preview-cell" },
  }),
];

export function Requests(props: {
  apiKey: string;
  range: Range;
  userId: string;
  filters: RequestFilters;
  onFilters: (filters: RequestFilters) => void;
  onOpen: (id: string) => void;
}) {
  const { apiKey, range, userId, filters, onFilters } = props;
  const [searchText, setSearchText] = useState(filters.search);
  const search = useDebounced(searchText, 300);
  useEffect(() => {
    if (search !== filters.search) onFilters({ ...filters, search, page: 1 });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);
  const [tagsText, setTagsText] = useState(filters.tags);
  const tags = useDebounced(tagsText, 300);
  useEffect(() => {
    if (tags !== filters.tags) onFilters({ ...filters, tags, page: 1 });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tags]);

  const [models] = useLoad(
    (signal) => api<CatalogueModel[]>(apiKey, "/v1/analytics/models", { signal }),
    [apiKey],
  );
  const [page, reload] = useLoad(
    (signal) =>
      api<RequestPage>(apiKey, "/v1/analytics/requests", {
        params: {
          page: filters.page,
          per_page: filters.perPage,
          model: filters.model,
          status: filters.status,
          search: filters.search,
          tag: parseTags(filters.tags),
          front_door: filters.frontDoor,
          start_date: range.start,
          end_date: range.end,
          user_id: userId,
          sort: `${filters.sort.desc ? "-" : ""}${filters.sort.field}`,
        },
        signal,
      }),
    [apiKey, userId, range.start, range.end, filters],
  );

  const sorting: SortingState = [{ id: filters.sort.field, desc: filters.sort.desc }];
  const table = useReactTable({
    data: page.data?.requests ?? [],
    columns: COLUMNS,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    state: { sorting },
  });

  const set = (change: Partial<RequestFilters>) => onFilters({ ...filters, page: 1, ...change });
  const sortBy = (field: SortField) =>
    set({ sort: { field, desc: filters.sort.field === field ? !filters.sort.desc : true } });
  const modelNames = [...new Set((models.data ?? []).map((m) => m.model_id))].sort();
  const data = page.data;
  const filtered = Boolean(
    filters.model || filters.status || filters.search || filters.frontDoor || parseTags(filters.tags).length,
  );

  return (
    <div>
      <form className="filters card" role="search" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Search prompts</span>
          <input
            type="search"
            value={searchText}
            placeholder="e.g. invoice"
            onChange={(e) => setSearchText(e.target.value)}
            data-testid="filter-search"
          />
        </label>
        <label>
          <span>Tags</span>
          <input
            type="search"
            value={tagsText}
            placeholder="e.g. team=search, canary"
            title="Comma-separated; each is NAME or NAME=VALUE, and every one must match."
            onChange={(e) => setTagsText(e.target.value)}
            data-testid="filter-tags"
          />
        </label>
        <label>
          <span>Model</span>
          <select value={filters.model} onChange={(e) => set({ model: e.target.value })} data-testid="filter-model">
            <option value="">All models</option>
            {modelNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>API</span>
          <select value={filters.frontDoor} onChange={(e) => set({ frontDoor: e.target.value })} data-testid="filter-api">
            <option value="">All APIs</option>
            {FRONT_DOORS.map(([name, label, title]) => (
              <option key={name} value={name} title={title}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select
            value={filters.status}
            onChange={(e) => set({ status: e.target.value as RequestFilters["status"] })}
            data-testid="filter-status"
          >
            <option value="">Any status</option>
            <option value="success">Succeeded</option>
            <option value="error">Failed</option>
          </select>
        </label>
        <label>
          <span>Sort</span>
          <select
            value={`${filters.sort.desc ? "-" : ""}${filters.sort.field}`}
            onChange={(e) => {
              const value = e.target.value;
              set({ sort: { field: value.replace(/^-/, "") as SortField, desc: value.startsWith("-") } });
            }}
            data-testid="sort-select"
          >
            {SORT_OPTIONS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setSearchText("");
              setTagsText("");
              onFilters({ ...DEFAULT_FILTERS, sort: filters.sort, perPage: filters.perPage });
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {page.state === "error" ? (
        <ErrorBox error={page.error} onRetry={reload} />
      ) : !data ? (
        <Loading label="Loading requests…" />
      ) : data.total === 0 ? (
        <Empty title={filtered ? "No request matches these filters" : "No requests in this range"}>
          <p>{filtered ? "Try another model, API, status, tag or search, or a wider date range." : "Requests sent through the router appear here."}</p>
        </Empty>
      ) : (
        <section className={`card ${page.state === "loading" ? "is-stale" : ""}`} aria-busy={page.state === "loading"}>
          <div className="table-head">
            <p className="muted" data-testid="requests-total" data-total={data.total}>
              {formatInt(data.total)}
              {data.total_is_estimate ? "+" : ""} {data.total === 1 ? "request" : "requests"}
            </p>
          </div>
          <div className="table-wrap">
            <table className="table table-clickable" data-testid="requests-table">
              <thead>
                {table.getHeaderGroups().map((group) => (
                  <tr key={group.id}>
                    {group.headers.map((header) => {
                      const id = header.column.id;
                      const meta = header.column.columnDef.meta as { className?: string } | undefined;
                      const sorted = filters.sort.field === id ? (filters.sort.desc ? "descending" : "ascending") : undefined;
                      return (
                        <th key={header.id} scope="col" className={meta?.className} aria-sort={sorted ?? (SORTABLE.has(id) ? "none" : undefined)}>
                          {SORTABLE.has(id) ? (
                            <button type="button" className="sort" onClick={() => sortBy(id as SortField)} data-testid={`sort-${id}`}>
                              {flexRender(header.column.columnDef.header, header.getContext())}
                              <span aria-hidden="true" className="sort-icon">
                                {sorted === "descending" ? "▼" : sorted === "ascending" ? "▲" : "↕"}
                              </span>
                            </button>
                          ) : (
                            flexRender(header.column.columnDef.header, header.getContext())
                          )}
                        </th>
                      );
                    })}
                  </tr>
                ))}
              </thead>
              <tbody>
                {table.getRowModel().rows.map((row) => (
                  <tr key={row.id} onClick={() => props.onOpen(row.original.id)} data-request-id={row.original.id}>
                    {row.getVisibleCells().map((cell, index) => {
                      const meta = cell.column.columnDef.meta as { className?: string } | undefined;
                      return (
                        <td key={cell.id} className={meta?.className} data-label={String(cell.column.columnDef.header)}>
                          {index === 0 ? (
                            <a
                              href={`/dashboard/requests/${row.original.id}`}
                              onClick={(e) => {
                                e.preventDefault();
                                e.stopPropagation();
                                props.onOpen(row.original.id);
                              }}
                            >
                              {flexRender(cell.column.columnDef.cell, cell.getContext())}
                            </a>
                          ) : (
                            flexRender(cell.column.columnDef.cell, cell.getContext())
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <label>
              <span>Rows per page</span>
              <select value={filters.perPage} onChange={(e) => set({ perPage: Number(e.target.value) })}>
                {[20, 50, 100].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <span data-testid="page-info">
              Page {formatInt(data.page)} of {formatInt(Math.max(data.total_pages, 1))}
              {data.total_is_estimate ? "+" : ""}
            </span>
            <div className="pager-buttons">
              <button type="button" className="button" disabled={filters.page <= 1} onClick={() => onFilters({ ...filters, page: filters.page - 1 })}>
                ← Previous
              </button>
              <button
                type="button"
                className="button"
                disabled={filters.page >= data.total_pages && !data.total_is_estimate}
                onClick={() => onFilters({ ...filters, page: filters.page + 1 })}
                data-testid="next-page"
              >
                Next →
              </button>
            </div>
          </nav>
        </section>
      )}
    </div>
  );
}
