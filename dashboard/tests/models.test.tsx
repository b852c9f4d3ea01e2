import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Models } from "../src/pages/Models";
import { stubFetch } from "./fetch";

const model = (id: string, provider: string, input: string, output: string, context: string) =>
  `{"id":${id.length},"uuid":"${id}-id","model_id":"${id}","provider":"${provider}","display_name":"${id}","input_price_per_1m_tokens":${input},` +
  `"output_price_per_1m_tokens":${output},"cached_input_price_per_1m_tokens":null,"cache_write_price_per_1m_tokens":null,` +
  `"context_window":${context},"max_output_tokens":4096,"price_source":"genai-prices","is_active":true}`;
const CATALOGUE = `[${[
  model("gpt-4o-mini", "openai", "0.15", "0.6", "128000"),
  model("claude-opus-4-5", "anthropic", "5", "25", "200000"),
  model("mystery", "openai", "null", "null", "null"),
  model("gemini-flash", "gemini", "0.3", "2.5", "1048576"),
].join(",")}]`;

describe("models", () => {
  it("sorts by price, unknown prices last, both ways", async () => {
    stubFetch(() => ({ body: CATALOGUE }));
    render(<Models apiKey="mr-k" />);
    const table = await screen.findByTestId("models-table");
    const names = () => within(table).getAllByRole("row").slice(1).map((r) => (r as HTMLTableRowElement).cells[0].querySelector(".mono")?.textContent);
    await userEvent.click(within(table).getByRole("button", { name: /Input \/ 1M/ }));
    expect(names()).toEqual(["gpt-4o-mini", "gemini-flash", "claude-opus-4-5", "mystery"]);
    await userEvent.click(within(table).getByRole("button", { name: /Input \/ 1M/ }));
    expect(names()).toEqual(["claude-opus-4-5", "gemini-flash", "gpt-4o-mini", "mystery"]);
    await userEvent.click(within(table).getByRole("button", { name: /Context/ }));
    expect(names()).toEqual(["gemini-flash", "claude-opus-4-5", "gpt-4o-mini", "mystery"]); // numbers: largest first
  });

  it("prices tokens exactly in the calculator", async () => {
    stubFetch(() => ({ body: CATALOGUE }));
    render(<Models apiKey="mr-k" />);
    const input = await screen.findByLabelText("Input tokens");
    await userEvent.clear(input);
    await userEvent.type(input, "3");
    await userEvent.clear(screen.getByLabelText("Output tokens"));
    expect(screen.getByTestId("calc-total")).toHaveTextContent(/^\$0\.00000045$/);
    await userEvent.selectOptions(screen.getByLabelText("Model"), "claude-opus-4-5-id");
    await userEvent.clear(input);
    await userEvent.type(input, "1,000,001");
    await userEvent.type(screen.getByLabelText("Output tokens"), "7");
    expect(screen.getByTestId("calc-total")).toHaveTextContent(/^\$5\.00018$/); // 5.000005 + 0.000175
  });

  it("filters the catalogue by name or provider", async () => {
    stubFetch(() => ({ body: CATALOGUE }));
    render(<Models apiKey="mr-k" />);
    await screen.findByTestId("models-table");
    await userEvent.type(screen.getByPlaceholderText("Filter models"), "anthropic");
    expect(within(screen.getByTestId("models-table")).getAllByRole("row")).toHaveLength(2);
  });
});
