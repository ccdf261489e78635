import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { MaintenanceWindow, SignerStats } from "../../web/src/api/types.js";
import { FleetView } from "../../web/src/fleet/FleetView.js";
import { SignerView } from "../../web/src/signer/SignerView.js";
import { fakeApi, host } from "./fakeApi.js";
import { renderApp } from "./render.js";

const K1 = `0x${"a1".repeat(48)}`;
const K2 = `0x${"b2".repeat(48)}`;
const stats: SignerStats = {
  keys_loaded: 2,
  since: "2026-01-01T10:00:00.000Z",
  minutes: [
    { minute: "2026-01-01T10:00:00.000Z", signed: 12, refused: 0, refused_by_code: {} },
    {
      minute: "2026-01-01T10:01:00.000Z",
      signed: 30,
      refused: 3,
      refused_by_code: { ERR_PROTECTION_DOUBLE_VOTE: 2, ERR_KEY_UNKNOWN: 1 },
    },
  ],
};

describe("signer view", () => {
  it("keys loaded, signatures and refusals per minute, and 'not enabled' when the doppelganger endpoint is absent", async () => {
    const api = fakeApi({
      "GET /api/v1/eth2/publicKeys": () => ({ body: [K1, K2] }),
      "GET /api/v1/eth2/stats": () => ({ body: { data: stats } }),
    });
    renderApp(<SignerView />, { fetch: api.fetch, path: "/signer" });
    await screen.findByText("Doppelganger guard not enabled on this signer", { exact: false });
    const chart = await screen.findByRole("img", { name: "Last 2 minutes: 42 signatures and 3 refusals." });
    expect(chart.querySelectorAll("rect.bar-signed")).toHaveLength(2);
    expect(chart.querySelectorAll("rect.bar-refused")).toHaveLength(1);
    const codes = screen.getByRole("table", { name: "Refusals in the last hour by code" });
    expect(
      within(codes)
        .getAllByRole("row")
        .map((r) => r.textContent),
    ).toEqual(["CodeRefusals", "ERR_PROTECTION_DOUBLE_VOTE2", "ERR_KEY_UNKNOWN1"]);
    expect(screen.getByText("Keys loaded").parentElement!.textContent).toBe("Keys loaded2");
    expect(screen.getAllByText("not enabled").length).toBeGreaterThan(2);
    expect(api.calls.some((c) => c.path === "/api/v1/eth2/doppelganger")).toBe(true);
  });

  it("shows each key's doppelganger status, detections first", async () => {
    const api = fakeApi({
      "GET /api/v1/eth2/publicKeys": () => ({ body: [K1, K2] }),
      "GET /api/v1/eth2/stats": () => ({ body: { data: stats } }),
      "GET /api/v1/eth2/doppelganger": () => ({
        body: {
          data: [
            {
              pubkey: K1,
              index: "12",
              status: "unverified",
              checked_epochs: 1,
              remaining_epochs: 1,
              since_epoch: "100",
              detail: null,
            },
            {
              pubkey: K2,
              index: "13",
              status: "doppelganger_detected",
              checked_epochs: 2,
              remaining_epochs: 0,
              since_epoch: "100",
              detail: "live in epoch 101",
            },
          ],
        },
      }),
    });
    renderApp(<SignerView />, { fetch: api.fetch, path: "/signer" });
    await screen.findByText("DOPPELGANGER DETECTED");
    const rows = screen.getAllByRole("row").filter((r) => r.textContent!.includes("Timeline"));
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("DOPPELGANGER DETECTED"),
      expect.stringContaining("checking (not signing yet) (1 epochs left)"),
    ]);
    expect(rows[0]!.textContent).toContain("live in epoch 101");
    expect(screen.getByText("Doppelganger guard").parentElement!.textContent).toContain(
      "0 verified, 1 checking, 1 detected",
    );
  });

  it("says so when no signer runs on this server", async () => {
    renderApp(<SignerView />, { fetch: fakeApi({}).fetch, path: "/signer" });
    expect(await screen.findByText("No Ethereum signer runs on this server")).toBeTruthy();
  });
});

describe("fleet view", () => {
  it("lists hosts with last report, agent, node reachability, keys and maintenance", async () => {
    const api = fakeApi({
      "GET /api/v1/hosts": () => ({
        body: {
          data: [
            host(1),
            host(2, {
              silent: true,
              nodes: [
                {
                  source: "harmony:x",
                  chain: "harmony",
                  reachable: false,
                  error: "connect ECONNREFUSED",
                  since: "2026-01-01T00:00:00.000Z",
                  info: {},
                },
              ],
              maintenance: {
                id: 4,
                host_id: 2,
                host: "host-2",
                starts_at: "2026-01-01T00:00:00.000Z",
                ends_at: "2099-01-01T00:00:00.000Z",
                reason: "disk swap",
                created_by: "alice",
                created_at: "2026-01-01T00:00:00.000Z",
              },
            }),
          ],
        },
      }),
      "GET /api/v1/maintenance": () => ({ body: { data: [] } }),
    });
    renderApp(<FleetView />, { fetch: api.fetch, path: "/fleet" });
    const row2 = (await screen.findByRole("rowheader", { name: /host-2/ })).closest("tr")!;
    expect(row2.textContent).toContain("silent");
    expect(row2.textContent).toContain("unreachable: connect ECONNREFUSED");
    expect(row2.textContent).toContain("disk swap");
    const row1 = screen.getByRole("rowheader", { name: "host-1" }).closest("tr")!;
    expect(row1.textContent).toContain("0.1.0");
    expect(row1.textContent).toContain("reachable");
    expect(
      within(row1).getByRole("link", { name: "2 / 3 keys of host-1 (active / present)" }).getAttribute("href"),
    ).toBe("/keys?host=1");
  });

  it("schedules a maintenance window and ends a running one", async () => {
    const windows: MaintenanceWindow[] = [
      {
        id: 9,
        host_id: 1,
        host: "host-1",
        starts_at: "2026-01-01T00:00:00.000Z",
        ends_at: "2099-01-01T00:00:00.000Z",
        reason: "upgrade",
        created_by: "alice",
        created_at: "2026-01-01T00:00:00.000Z",
      },
    ];
    const api = fakeApi({
      "GET /api/v1/hosts": () => ({ body: { data: [host(1), host(2)] } }),
      "GET /api/v1/maintenance": () => ({ body: { data: windows } }),
      "POST /api/v1/maintenance": (r) => {
        const b = r.body as { host: number; ends_at: string; reason: string };
        return {
          status: 201,
          body: {
            data: {
              ...windows[0]!,
              id: 10,
              host_id: b.host,
              host: `host-${b.host}`,
              ends_at: b.ends_at,
              reason: b.reason,
            },
          },
        };
      },
      "PUT /api/v1/maintenance/:id": (r) => ({ body: { data: { ...windows[0]!, ...(r.body as object) } } }),
    });
    renderApp(<FleetView />, { fetch: api.fetch, path: "/fleet" });
    await screen.findByRole("rowheader", { name: "host-2" });
    fireEvent.change(screen.getByLabelText("Host"), { target: { value: "2" } });
    fireEvent.change(screen.getByLabelText("Lasts"), { target: { value: String(2 * 3_600_000) } });
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "kernel" } });
    const before = Date.now();
    fireEvent.click(screen.getByRole("button", { name: "Schedule maintenance" }));
    await screen.findByText("Maintenance scheduled for host-2.");
    const post = api.calls.find((c) => c.method === "POST")!.body as { host: number; ends_at: string; reason: string };
    expect([post.host, post.reason]).toEqual([2, "kernel"]);
    expect(Date.parse(post.ends_at) - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(Date.parse(post.ends_at) - Date.now()).toBeLessThanOrEqual(2 * 3_600_000);

    fireEvent.click(await screen.findByRole("button", { name: "End maintenance of host-1 now" }));
    await screen.findByText("Maintenance of host-1 ended.");
    const put = api.calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe("/api/v1/maintenance/9");
    expect((put.body as { starts_at: string }).starts_at).toBe("2026-01-01T00:00:00.000Z");
  });

  it("tells how to add hosts when none reports", async () => {
    renderApp(<FleetView />, {
      fetch: fakeApi({
        "GET /api/v1/hosts": () => ({ body: { data: [] } }),
        "GET /api/v1/maintenance": () => ({ body: { data: [] } }),
      }).fetch,
      path: "/fleet",
    });
    expect((await screen.findByText("No host has reported yet")).parentElement!.textContent).toContain(
      "slashguard agent --monitor",
    );
    await waitFor(() => expect(screen.getByText("No maintenance window is running or planned.")).toBeTruthy());
  });
});
