import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { SignIn } from "../src/pages/SignIn";
import { stubFetch } from "./fetch";

const ME = '{"id":"0b0e4c35-1f8e-4a57-9d0e-2f4f6f3c1e55","name":"alice","prefix":"mr-abcdefg","is_admin":false}';

describe("sign in", () => {
  it("signs in with a key the router accepts, sent as a bearer token", async () => {
    const calls = stubFetch(() => ({ body: ME }));
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText("API key"), "  mr-good  {Enter}");
    expect(onSignedIn).toHaveBeenCalledWith("mr-good", expect.objectContaining({ name: "alice", is_admin: false }));
    expect(calls[0].url.pathname).toBe("/v1/analytics/me");
    expect(calls[0].headers.Authorization).toBe("Bearer mr-good");
  });

  it("shows the router's reason for a bad key", async () => {
    stubFetch(() => ({
      status: 401,
      body: '{"error":{"message":"Invalid API key.","type":"authentication_error","param":null,"code":"invalid_api_key"}}',
    }));
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText("API key"), "mr-bad");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This API key was not accepted: Invalid API key.");
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("says so when the router cannot be reached", async () => {
    stubFetch(() => "network-error");
    render(<SignIn onSignedIn={vi.fn()} />);
    await userEvent.type(screen.getByLabelText("API key"), "mr-any{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the router");
  });

  it("asks for a key rather than calling the router with none", async () => {
    const calls = stubFetch(() => ({ body: ME }));
    render(<SignIn onSignedIn={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Paste an API key");
    expect(calls).toHaveLength(0);
  });
});
