import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { RequestView } from "../src/pages/RequestView";
import { type Call, stubFetch } from "./fetch";

const NO_DECISION = {
  status: 404,
  body: '{"error":{"message":"No routing decision for request \'r1\'.","type":"not_found_error","param":"request_id","code":"decision_not_found"}}',
};

/** The detail for its path, and no routing decision unless one is given. */
function answers(detail: string, decision?: string) {
  return (call: Call) =>
    call.url.pathname.startsWith("/v1/analytics/routing/decisions/")
      ? decision === undefined
        ? NO_DECISION
        : { body: decision }
      : { body: detail };
}

const DECISION =
  '{"request_id":"r1","created_at":"2026-11-26T19:40:00+00:00","pool":"auto-coding","task_class":"size=xs,tools=no","features":{"size":"xs"},' +
  '"chosen_model":"gpt-4o-mini","answered_by":"gpt-4o-mini","probability":0.9,"explored":false,"default_model":"gpt-4o","default_probability":0.1,' +
  '"candidates":[{"model":"gpt-4o-mini","estimated_cost_usd":0.000012345678901,"probability":0.9},{"model":"gpt-4o","estimated_cost_usd":0.0002,"probability":0.1}],' +
  '"estimated_cost_usd":0.000012345678901,"default_cost_usd":0.0002,"cost_usd":0.0001806,"quality":null,"quality_source":"success",' +
  '"reason":"pool auto-coding: gpt-4o-mini (cheapest good enough, p=0.900) of 2 candidates"}';

const DETAIL = (extra: string, door = "chat_completions") =>
  `{"id":"r1","user_id":"u1","model_id":"m1","provider_id":"p1","model":"gpt-4o-mini","provider":"openai",` +
  `"prompt_text":"system: Be brief.\\nuser: What is 6 x 7?",` +
  `"request_messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is 6 x 7?"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}],` +
  `"response_text":"42","reasoning_text":null,"tool_calls":null,"finish_reason":"stop","input_tokens":1200,"output_tokens":1,"total_tokens":1201,` +
  `"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"input_price_per_1m_tokens":0.15,"output_price_per_1m_tokens":0.6,` +
  `"cached_input_price_per_1m_tokens":null,"cache_write_price_per_1m_tokens":null,"input_cost_usd":0.00018,"output_cost_usd":0.0000006,` +
  `"total_cost_usd":0.0001806,"cost_unknown":false,"latency_ms":412,"ttft_ms":null,"is_stream":false,"status":"success","error_message":null,` +
  `"upstream_status":null,"http_status":200,"created_at":"2026-11-26T19:40:00+00:00","completed_at":"2026-11-26T19:40:00.412+00:00","front_door":"${door}"${extra}}`;

describe("a request in full", () => {
  it("shows the conversation, the response, tokens, exact costs and latency", async () => {
    const calls = stubFetch(answers(DETAIL("")));
    render(<RequestView apiKey="mr-k" id="r1" onBack={vi.fn()} />);
    const view = await screen.findByTestId("request-detail");
    expect(within(view).getByTestId("detail-api")).toHaveTextContent("Chat");
    expect(within(view).getByTestId("detail-cost")).toHaveTextContent("$0.0001806");
    expect(within(view).getByTestId("detail-input-tokens")).toHaveTextContent("1,200");
    expect(within(view).getByTestId("detail-latency")).toHaveTextContent("412 ms");
    expect(within(view).getByTestId("detail-response")).toHaveTextContent("42");
    const messages = within(view).getAllByRole("listitem");
    expect(messages[0]).toHaveTextContent("systemBe brief.");
    expect(messages[1]).toHaveTextContent("What is 6 x 7?");
    expect(messages[1]).toHaveTextContent("[image]");
    expect(screen.queryByTestId("detail-more")).not.toBeInTheDocument();
    expect(screen.queryByTestId("detail-dropped")).not.toBeInTheDocument();
    await vi.waitFor(() => expect(calls.some((c) => c.url.pathname === "/v1/analytics/routing/decisions/r1")).toBe(true));
    expect(screen.queryByTestId("detail-decision")).not.toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows the front door, what the translation dropped and attempts made on an open circuit", async () => {
    const attempts =
      '[{"deployment":"openai-eu","provider":"openai","model":"gpt-4o-mini","status":503,"latency_ms":12,"error":"upstream 503","panic":false},' +
      '{"deployment":"openai-us","provider":"openai","model":"gpt-4o-mini","status":200,"latency_ms":400,"error":null,"panic":true}]';
    stubFetch(answers(DETAIL(`,"dropped_hints":["cache_control","max_tokens clamped to 16384"],"attempts":${attempts}`, "messages")));
    render(<RequestView apiKey="mr-k" id="r1" onBack={vi.fn()} />);
    const view = await screen.findByTestId("request-detail");
    expect(within(view).getByTestId("detail-api")).toHaveTextContent("Messages");
    expect(within(view).getByTitle("Anthropic Messages")).toBeInTheDocument();
    const dropped = within(view).getByTestId("detail-dropped");
    expect(within(dropped).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["cache_control", "max_tokens clamped to 16384"]);
    const rows = within(within(view).getByTestId("detail-attempts")).getAllByRole("row");
    expect(rows).toHaveLength(3);
    expect(within(rows[1]).queryByTestId("attempt-panic")).not.toBeInTheDocument();
    expect(within(rows[2]).getByTestId("attempt-panic")).toHaveTextContent("panic");
    expect(screen.queryByTestId("detail-more")).not.toBeInTheDocument(); // none of them left for "More"
  });

  it("shows the learned routing decision: pool, class, choice, probability, candidates and reason", async () => {
    stubFetch(answers(DETAIL(""), DECISION));
    render(<RequestView apiKey="mr-k" id="r1" onBack={vi.fn()} />);
    const decision = await screen.findByTestId("detail-decision");
    expect(decision).toHaveTextContent("auto-coding");
    expect(decision).toHaveTextContent("size=xs,tools=no");
    expect(within(decision).getByTestId("decision-chosen")).toHaveTextContent("gpt-4o-mini (90.0 %)");
    expect(within(decision).getByTestId("decision-reason")).toHaveTextContent("cheapest good enough, p=0.900");
    const rows = within(within(decision).getByTestId("decision-candidates")).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("gpt-4o-mini ✓");
    expect(rows[2]).toHaveTextContent("10.0 %");
    expect(within(rows[1]).getByTitle("$0.000012345678901")).toHaveTextContent("$0.0000123");
  });

  it("lists fields other features add under More", async () => {
    stubFetch(answers(DETAIL(',"cache_status":"hit","saved_cost_usd":0.0001806,"tags":["billing"],"end_user":null')));
    render(<RequestView apiKey="mr-k" id="r1" onBack={vi.fn()} />);
    const more = await screen.findByTestId("detail-more");
    expect(more).toHaveTextContent("cache status");
    expect(more).toHaveTextContent("hit");
    expect(more).toHaveTextContent("$0.0001806");
    expect(more).toHaveTextContent("billing");
    expect(more).not.toHaveTextContent("end user");
  });

  it("says what went wrong for an unknown id, and goes back", async () => {
    stubFetch(() => ({
      status: 404,
      body: '{"error":{"message":"No request with id \'nope\'.","type":"not_found_error","param":"request_id","code":"request_not_found"}}',
    }));
    const onBack = vi.fn();
    render(<RequestView apiKey="mr-k" id="nope" onBack={onBack} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("No request with id 'nope'.");
    await userEvent.click(screen.getByRole("button", { name: /All requests/ }));
    expect(onBack).toHaveBeenCalled();
  });
});
