import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { AlertBanner } from "../../web/src/alerts/AlertBanner.js";
import { AlertPanel } from "../../web/src/alerts/AlertPanel.js";
import type { Alert } from "../../web/src/api/types.js";
import { alert, fakeApi } from "./fakeApi.js";
import { renderApp } from "./render.js";

/** The monitor's alert API over an in-memory list: filters, acknowledge, suppress (409 once resolved). */
function alertApi(list: Alert[]) {
  return fakeApi({
    "GET /api/v1/alerts": (r) => ({
      body: {
        data: list.filter(
          (a) =>
            (!r.query.has("status") || a.status === r.query.get("status")) &&
            (!r.query.has("kind") || a.kind === r.query.get("kind")),
        ),
      },
    }),
    "POST /api/v1/alerts/:id/acknowledge": (r) => {
      const a = list.find((x) => `/api/v1/alerts/${x.id}/acknowledge` === r.path)!;
      if (a.status === "resolved") return { status: 409, body: { code: "ERR_ALERT_RESOLVED", message: "resolved" } };
      Object.assign(a, { status: "acknowledged", acknowledged_by: "alice", acknowledged_at: new Date().toISOString() });
      return { body: { data: { ...a } } };
    },
    "POST /api/v1/alerts/:id/suppress": (r) => {
      const a = list.find((x) => `/api/v1/alerts/${x.id}/suppress` === r.path)!;
      Object.assign(a, { status: "suppressed", suppressed_until: (r.body as { until: string }).until });
      return { body: { data: { ...a } } };
    },
  });
}

describe("alert banner and panel", () => {
  it("the banner counts open critical alerts, names the worst and links to the panel; it follows live changes", async () => {
    const { alerts } = renderApp(<AlertBanner />, { fetch: alertApi([]).fetch });
    expect(screen.queryByTestId("alert-banner")).toBeNull();
    act(() =>
      alerts.upsert([
        alert(1, { kind: "foreign_signer", chain: "ethereum" }),
        alert(2, { kind: "double_active", hosts: ["a", "b"] }),
        alert(3, { kind: "agent_silent", severity: "warning" }),
      ]),
    );
    const banner = screen.getByTestId("alert-banner");
    expect(banner.textContent).toContain("2 critical alerts open.");
    expect(banner.textContent).toContain("Worst: Key active on two hosts");
    expect(banner.textContent).toContain("on a, b");
    expect(within(banner).getByRole("link", { name: "Open the alert panel" }).getAttribute("href")).toBe("/alerts");
    act(() => alerts.upsert([alert(2, { status: "acknowledged" })]));
    expect(banner.textContent).toContain("1 critical alert open.");
    expect(banner.textContent).toContain("Signature we did not make");
    act(() => alerts.upsert([alert(1, { status: "resolved" })]));
    expect(screen.queryByTestId("alert-banner")).toBeNull();
  });

  it("each alert shows confidence, kind, chain, key, hosts, sources and times; Acknowledge updates it at once", async () => {
    const list = [
      alert(5, { confidence: 0.75 }),
      alert(6, { kind: "agent_silent", severity: "warning", pubkey: null }),
    ];
    const api = alertApi(list);
    const { alerts } = renderApp(
      <>
        <AlertBanner />
        <AlertPanel />
      </>,
      { fetch: api.fetch, path: "/alerts" },
    );
    await act(() => alerts.load());
    const item = screen.getByRole("article", { name: /Key active on two hosts #5/ });
    expect(within(item).getByRole("meter", { name: "Confidence 75%" })).toBeTruthy();
    expect(item.textContent).toContain("double_active");
    expect(item.textContent).toContain("harmony");
    expect(item.textContent).toContain("alpha (certainty 100%); beta (certainty 50%, stale)");
    expect(within(item).getByText("0x00000005…0005").getAttribute("title")).toBe(list[0]!.pubkey);
    expect(within(item).getByRole("button", { name: `Copy public key ${list[0]!.pubkey}` })).toBeTruthy();
    expect(item.querySelectorAll("time")).toHaveLength(2);
    expect(screen.getByTestId("alert-banner").textContent).toContain("1 critical alert open.");

    fireEvent.click(within(item).getByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(within(item).getByRole("button", { name: "Acknowledged" })).toBeTruthy());
    expect(item.textContent).toContain("acknowledged");
    expect(item.textContent).toContain("by alice");
    expect(screen.queryByTestId("alert-banner")).toBeNull();
    expect(api.calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/v1/alerts/5/acknowledge"]);
    expect(screen.getByRole("status").textContent).toBe("Alert 5 acknowledged.");
  });

  it("Suppress sends the chosen time and shows the alert suppressed at once", async () => {
    const api = alertApi([alert(8)]);
    const { alerts } = renderApp(<AlertPanel />, { fetch: api.fetch, path: "/alerts" });
    await act(() => alerts.load());
    const item = screen.getByRole("article", { name: /#8/ });
    fireEvent.change(within(item).getByLabelText("Suppress for"), { target: { value: String(4 * 3_600_000) } });
    const before = Date.now();
    fireEvent.click(within(item).getByRole("button", { name: "Suppress" }));
    await waitFor(() => expect(item.textContent).toContain("suppressed until"));
    const until = Date.parse((api.calls.find((c) => c.method === "POST")!.body as { until: string }).until);
    expect(until).toBeGreaterThanOrEqual(before + 4 * 3_600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 4 * 3_600_000);
  });

  it("an action the server refuses shows its error and changes nothing", async () => {
    const list = [alert(9)];
    const api = alertApi(list);
    const { alerts } = renderApp(<AlertPanel />, { fetch: api.fetch, path: "/alerts" });
    await act(() => alerts.load());
    list[0]!.status = "resolved"; // resolved meanwhile by another operator
    const item = screen.getByRole("article", { name: /#9/ });
    fireEvent.click(within(item).getByRole("button", { name: "Acknowledge" }));
    await waitFor(() => expect(within(item).getByRole("alert").textContent).toContain("ERR_ALERT_RESOLVED"));
    expect(alerts.getSnapshot().alerts[0]!.status).toBe("open");
  });

  it("filters by status and kind (kept in the URL); resolved alerts are fetched when asked for", async () => {
    const list = [
      alert(1, { kind: "double_active" }),
      alert(2, { kind: "agent_silent", severity: "warning" }),
      alert(3, { kind: "node_unreachable", severity: "warning", status: "resolved" }),
    ];
    const api = alertApi(list);
    const { alerts } = renderApp(<AlertPanel />, { fetch: api.fetch, path: "/alerts" });
    await act(() => alerts.load());
    const ids = () => screen.queryAllByRole("article").map((a) => a.querySelector("h2")!.textContent);
    expect(ids()).toEqual(["Key active on two hosts #1", "Agent silent #2"]);
    fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "agent_silent" } });
    expect(ids()).toEqual(["Agent silent #2"]);
    expect(location.search).toBe("?kind=agent_silent");
    fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "resolved" } });
    await waitFor(() => expect(ids()).toEqual(["Node unreachable #3"]));
    expect(api.calls.some((c) => c.query.get("status") === "resolved")).toBe(true);
    fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "double_active" } });
    expect(screen.getByText("No alert matches these filters")).toBeTruthy();
  });

  it("says what to do when there is nothing, and when the monitor cannot be reached", async () => {
    const empty = renderApp(<AlertPanel />, { fetch: alertApi([]).fetch, path: "/alerts" });
    await act(() => empty.alerts.load());
    expect(screen.getByText("No alert needs attention")).toBeTruthy();
    empty.unmount();
    const down = renderApp(<AlertPanel />, {
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
      path: "/alerts",
    });
    await act(() => down.alerts.load());
    expect(screen.getByRole("alert").textContent).toContain("The server cannot be reached");
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });
});
