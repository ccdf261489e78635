import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../../web/src/App.js";
import { fakeApi, sseStream } from "./fakeApi.js";
import "./render.js";

/** A monitor that accepts one operator token, refuses an agent token (403) and anything else (401). */
const monitorApi = () =>
  fakeApi({
    "GET /api/v1/alerts": (r) => {
      const auth = r.headers.get("authorization");
      if (auth === "Bearer op-token") return { body: { data: [] } };
      if (auth === "Bearer agent-token") return { status: 403, body: { code: "ERR_FORBIDDEN", message: "no" } };
      return { status: 401, body: { code: "ERR_UNAUTHORIZED", message: "no" } };
    },
    "GET /api/v1/feed": () => sseStream().response(),
  });

describe("sign-in", () => {
  it("refuses a wrong token and an agent token with what to do; keeps a good one in session storage only", async () => {
    history.replaceState(null, "", "/alerts");
    render(<App fetchImpl={monitorApi().fetch} />);
    const input = screen.getByLabelText("Owner token");
    expect(input.getAttribute("type")).toBe("password");
    fireEvent.change(input, { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "This token is not accepted: it is wrong or was revoked.",
    );
    expect(input.getAttribute("aria-invalid")).toBe("true");
    fireEvent.change(input, { target: { value: "agent-token" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByText(/it is an agent token/)).textContent).toContain("Use an operator or admin token.");
    expect(sessionStorage.getItem("slashguard.token")).toBeNull();

    fireEvent.change(input, { target: { value: " op-token " } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Alerts" })).toBeTruthy();
    expect(sessionStorage.getItem("slashguard.token")).toBe("op-token");
    expect(localStorage.length).toBe(0);
    expect(document.cookie).toBe("");
    expect(screen.getByRole("link", { name: "Alerts" }).getAttribute("aria-current")).toBe("page");

    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByLabelText("Owner token")).toBeTruthy();
    expect(sessionStorage.getItem("slashguard.token")).toBeNull();
  });

  it("a token revoked while signed in sends the operator back to sign-in, saying why", async () => {
    sessionStorage.setItem("slashguard.token", "revoked");
    history.replaceState(null, "", "/alerts");
    render(<App fetchImpl={monitorApi().fetch} />);
    expect((await screen.findByRole("status")).textContent).toContain("Your token is no longer accepted");
    expect(sessionStorage.getItem("slashguard.token")).toBeNull();
  });
});
