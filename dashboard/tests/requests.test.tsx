import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_FILTERS, Requests, type RequestFilters } from "../src/pages/Requests";
import { type Call, stubFetch } from "./fetch";

const ROW = (id: string, cost: string | null, status = "success", door = "chat_completions") =>
  `{"id":"${id}","model":"gpt-4o-mini","provider":"openai","status":"${status}","input_tokens":10,"output_tokens":5,"total_tokens":15,` +
  `"total_cost_usd":${cost},"latency_ms":420,"created_at":"2026-11-26T10:00:00+00:00","prompt_preview":"user: hello ${id}",` +
  `"error_message":${status === "error" ? '"openai: upstream said no"' : "null"},"is_stream":false,"user_id":null,"front_door":"${door}"}`;

function answer(call: Call) {
  if (call.url.pathname === "/v1/analytics/models") return { body: "[]" };
  if (call.url.searchParams.get("front_door") === "messages")
    return { body: `{"requests":[${ROW("c", "0.0002", "success", "messages")}],"total":1,"page":1,"per_page":20,"total_pages":1}` };
  const rows = call.url.searchParams.get("status") === "error" ? [ROW("b", "null", "error")] : [ROW("a", "0.0000045"), ROW("b", "null", "error")];
  return { body: `{"requests":[${rows.join(",")}],"total":${rows.length === 1 ? 1 : 41},"page":1,"per_page":20,"total_pages":3}` };
}

function Harness({ onOpen = vi.fn() }: { onOpen?: (id: string) => void }) {
  const [filters, setFilters] = useState<RequestFilters>(DEFAULT_FILTERS);
  return (
    <Requests apiKey="mr-k" range={{ preset: "7", start: "2026-11-20", end: "2026-11-26" }} userId="" filters={filters} onFilters={setFilters} onOpen={onOpen} />
  );
}

function lastLogQuery(calls: Call[]) {
  const log = calls.filter((c) => c.url.pathname === "/v1/analytics/requests");
  return Object.fromEntries(log[log.length - 1].url.searchParams);
}

describe("the request log", () => {
  it("lists the page with the date range, newest first", async () => {
    const calls = stubFetch(answer);
    render(<Harness />);
    expect(await screen.findByTestId("requests-total")).toHaveTextContent("41 requests");
    const rows = within(screen.getByTestId("requests-table")).getAllByRole("row");
    expect(rows).toHaveLength(3); // header + 2
    expect(rows[1]).toHaveTextContent("$0.0000045");
    expect(rows[2]).toHaveTextContent("openai: upstream said no");
    expect(lastLogQuery(calls)).toEqual({ page: "1", per_page: "20", start_date: "2026-11-20", end_date: "2026-11-26", sort: "-created_at" });
  });

  it("filters by status and sorts by cost from the column header", async () => {
    const calls = stubFetch(answer);
    render(<Harness />);
    await screen.findByTestId("requests-total");
    await userEvent.selectOptions(screen.getByLabelText("Status"), "error");
    expect(await screen.findByText("1 request")).toBeInTheDocument();
    expect(lastLogQuery(calls).status).toBe("error");
    await userEvent.click(screen.getByRole("button", { name: /Cost/ }));
    expect(lastLogQuery(calls).sort).toBe("-total_cost_usd");
    expect(screen.getByRole("columnheader", { name: /Cost/ })).toHaveAttribute("aria-sort", "descending");
    await userEvent.click(screen.getByRole("button", { name: /Cost/ }));
    expect(lastLogQuery(calls).sort).toBe("total_cost_usd");
  });

  it("filters by tags, each sent as its own tag parameter", async () => {
    const calls = stubFetch(answer);
    render(<Harness />);
    await screen.findByTestId("requests-total");
    await userEvent.type(screen.getByLabelText("Tags"), " team=search, canary ,");
    await vi.waitFor(() => {
      const log = calls.filter((c) => c.url.pathname === "/v1/analytics/requests");
      expect(log[log.length - 1].url.searchParams.getAll("tag")).toEqual(["team=search", "canary"]);
    });
    expect(lastLogQuery(calls).page).toBe("1");
    expect(screen.getByRole("button", { name: "Clear filters" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(screen.getByLabelText("Tags")).toHaveValue("");
    await vi.waitFor(() => expect(lastLogQuery(calls).tag).toBeUndefined());
  });

  it("says which API each call came through and filters by it", async () => {
    const calls = stubFetch(answer);
    render(<Harness />);
    await screen.findByTestId("requests-total");
    expect(screen.getByRole("columnheader", { name: "API" })).toBeInTheDocument();
    expect(within(screen.getByTestId("requests-table")).getAllByRole("row")[1]).toHaveTextContent("Chat");
    await userEvent.selectOptions(screen.getByLabelText("API"), "Messages");
    expect(await screen.findByText("1 request")).toBeInTheDocument();
    expect(lastLogQuery(calls).front_door).toBe("messages");
    const row = within(screen.getByTestId("requests-table")).getAllByRole("row")[1];
    expect(within(row).getByTitle("Anthropic Messages")).toHaveTextContent("Messages");
    await userEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    await vi.waitFor(() => expect(lastLogQuery(calls).front_door).toBeUndefined());
  });

  it("pages forward", async () => {
    const calls = stubFetch(answer);
    render(<Harness />);
    await screen.findByTestId("requests-total");
    await userEvent.click(screen.getByRole("button", { name: /Next/ }));
    expect(lastLogQuery(calls).page).toBe("2");
    expect(screen.getByRole("button", { name: /Previous/ })).toBeEnabled();
  });

  it("shows a capped search count as a lower bound and keeps paging past it", async () => {
    const calls = stubFetch((call) =>
      call.url.pathname === "/v1/analytics/models"
        ? { body: "[]" }
        : {
            body:
              `{"requests":[${ROW("a", "0.0000045")}],"total":10000,"page":500,"per_page":20,` +
              `"total_pages":500,"total_is_estimate":true}`,
          },
    );
    render(<Harness />);
    expect(await screen.findByTestId("requests-total")).toHaveTextContent("10,000+ requests");
    expect(screen.getByTestId("page-info")).toHaveTextContent("Page 500 of 500+");
    const next = screen.getByRole("button", { name: /Next/ });
    expect(next).toBeEnabled();
    await userEvent.click(next);
    expect(lastLogQuery(calls).page).toBe("2");
  });

  it("opens a request from the keyboard", async () => {
    stubFetch(answer);
    const onOpen = vi.fn();
    render(<Harness onOpen={onOpen} />);
    await screen.findByTestId("requests-total");
    const link = within(screen.getByTestId("requests-table")).getAllByRole("link")[0];
    link.focus();
    await userEvent.keyboard("{Enter}");
    expect(onOpen).toHaveBeenCalledWith("a");
  });

  it("says when nothing matches", async () => {
    stubFetch((call) =>
      call.url.pathname === "/v1/analytics/models"
        ? { body: "[]" }
        : { body: '{"requests":[],"total":0,"page":1,"per_page":20,"total_pages":0}' },
    );
    render(<Harness />);
    expect(await screen.findByTestId("empty")).toHaveTextContent("No requests in this range");
  });
});
