import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { RequestView } from "../src/pages/RequestView";
import { stubFetch } from "./fetch";

const DETAIL = (extra: string) =>
  `{"id":"r1","user_id":"u1","model_id":"m1","provider_id":"p1","model":"gpt-4o-mini","provider":"openai",` +
  `"prompt_text":"system: Be brief.\\nuser: What is 6 x 7?",` +
  `"request_messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is 6 x 7?"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}],` +
  `"response_text":"42","reasoning_text":null,"tool_calls":null,"finish_reason":"stop","input_tokens":1200,"output_tokens":1,"total_tokens":1201,` +
  `"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"input_price_per_1m_tokens":0.15,"output_price_per_1m_tokens":0.6,` +
  `"cached_input_price_per_1m_tokens":null,"cache_write_price_per_1m_tokens":null,"input_cost_usd":0.00018,"output_cost_usd":0.0000006,` +
  `"total_cost_usd":0.0001806,"cost_unknown":false,"latency_ms":412,"ttft_ms":null,"is_stream":false,"status":"success","error_message":null,` +
  `"upstream_status":null,"http_status":200,"created_at":"2026-11-26T19:40:00+00:00","completed_at":"2026-11-26T19:40:00.412+00:00"${extra}}`;

describe("a request in full", () => {
  it("shows the conversation, the response, tokens, exact costs and latency", async () => {
    stubFetch(() => ({ body: DETAIL("") }));
    render(<RequestView apiKey="mr-k" id="r1" onBack={vi.fn()} />);
    const view = await screen.findByTestId("request-detail");
    expect(within(view).getByTestId("detail-cost")).toHaveTextContent("$0.0001806");
    expect(within(view).getByTestId("detail-input-tokens")).toHaveTextContent("1,200");
    expect(within(view).getByTestId("detail-latency")).toHaveTextContent("412 ms");
    expect(within(view).getByTestId("detail-response")).toHaveTextContent("42");
    const messages = within(view).getAllByRole("listitem");
    expect(messages[0]).toHaveTextContent("systemBe brief.");
    expect(messages[1]).toHaveTextContent("What is 6 x 7?");
    expect(messages[1]).toHaveTextContent("[image]");
    expect(screen.queryByTestId("detail-more")).not.toBeInTheDocument();
  });

  it("lists fields other features add under More", async () => {
    stubFetch(() => ({ body: DETAIL(',"cache_status":"hit","saved_cost_usd":0.0001806,"tags":["billing"],"end_user":null') }));
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
