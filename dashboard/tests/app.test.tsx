import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import { USAGE, stubFetch } from "./fetch";

const ME = (admin: boolean) => `{"id":"u1","name":"${admin ? "ops" : "alice"}","prefix":"mr-abcdefg","is_admin":${admin}}`;

function router(admin: boolean) {
  return stubFetch((call) => {
    switch (call.url.pathname) {
      case "/v1/analytics/me":
        return { body: ME(admin) };
      case "/v1/analytics/users":
        return { body: '{"users":[{"id":"u2","name":"team-a","prefix":"mr-zzzz","is_admin":false,"is_active":true}]}' };
      case "/v1/analytics/models":
        return { body: "[]" };
      case "/v1/analytics/routing/pools":
        return { body: '{"pools":[]}' };
      default:
        return { body: USAGE };
    }
  });
}

describe("the app", () => {
  it("keeps the key for the tab's session and forgets it on sign-out", async () => {
    sessionStorage.setItem("model-router.key", "mr-saved");
    const calls = router(true);
    render(<App />);
    expect(await screen.findByTestId("whoami")).toHaveTextContent("ops");
    expect(calls[0].headers.Authorization).toBe("Bearer mr-saved");
    expect(screen.getByRole("link", { name: "Keys" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Routing" })).toHaveAttribute("href", "/dashboard/routing");
    expect(await screen.findByRole("option", { name: /team-a/ })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(sessionStorage.getItem("model-router.key")).toBeNull();
    expect(screen.getByLabelText("API key")).toBeInTheDocument();
  });

  it("gives a normal key no keys page and no key picker", async () => {
    sessionStorage.setItem("model-router.key", "mr-user");
    const calls = router(false);
    render(<App />);
    await screen.findByTestId("stat-cost");
    expect(screen.queryByRole("link", { name: "Keys" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Routing" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Key / user")).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.pathname === "/v1/analytics/users")).toBe(false);
  });

  it("opens the routing page from the nav for an admin", async () => {
    sessionStorage.setItem("model-router.key", "mr-saved");
    const calls = router(true);
    render(<App />);
    await userEvent.click(await screen.findByRole("link", { name: "Routing" }));
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Learned routing");
    expect(await screen.findByTestId("empty")).toHaveTextContent("No learned routing pools");
    expect(calls.some((c) => c.url.pathname === "/v1/analytics/routing/pools")).toBe(true);
  });

  it("drops a saved key the router now refuses, and says why", async () => {
    sessionStorage.setItem("model-router.key", "mr-revoked");
    stubFetch(() => ({
      status: 403,
      body: '{"error":{"message":"This API key has been revoked.","type":"permission_error","param":null,"code":"key_revoked"}}',
    }));
    render(<App />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This API key has been revoked.");
    expect(sessionStorage.getItem("model-router.key")).toBeNull();
  });
});
