import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyRow, Timeline } from "../../web/src/api/types.js";
import { KeyTable } from "../../web/src/keys/KeyTable.js";
import { KeyTimeline } from "../../web/src/keys/KeyTimeline.js";
import { alert, fakeApi, keyRow } from "./fakeApi.js";
import { inProcessPort } from "./inProcessPort.js";
import { renderApp } from "./render.js";

/** GET /api/v1/keys with keyset pages, as the monitor serves it (sorted by pubkey, host). */
function keysApi(rows: KeyRow[]) {
  const sorted = [...rows].sort((a, b) => (a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : a.host_id - b.host_id));
  return fakeApi({
    "GET /api/v1/keys": (r) => {
      const limit = Number(r.query.get("limit"));
      const cursor = r.query.get("cursor");
      const start = cursor === null ? 0 : sorted.findIndex((k) => `${k.pubkey}.${k.host_id}` === cursor) + 1;
      const page = sorted.slice(start, start + limit);
      const last = page.at(-1);
      return {
        body: { data: page, next_cursor: page.length === limit && last ? `${last.pubkey}.${last.host_id}` : null },
      };
    },
  });
}

const showing = () => screen.getByText(/^Showing/).textContent;

describe("key table", () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => keyRow(i));
  // happy-dom lays nothing out: give every box the size of a laptop's table viewport (600 px, about 14
  // rows), as the browser would, so the virtualiser has a window to fill.
  const saved = ["clientHeight", "clientWidth"].map(
    (p) => [p, Object.getOwnPropertyDescriptor(HTMLElement.prototype, p)] as const,
  );
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1000 });
  });
  afterAll(() => {
    for (const [p, d] of saved) if (d !== undefined) Object.defineProperty(HTMLElement.prototype, p, d);
  });

  it("loads 10,000 keys page by page and draws only the rows in view", async () => {
    const api = keysApi(rows);
    renderApp(<KeyTable portFactory={inProcessPort} />, { fetch: api.fetch, path: "/keys" });
    await waitFor(() => expect(showing()).toBe("Showing 10,000 of 10,000 keys"));
    expect(api.calls.map((c) => c.query.has("cursor"))).toEqual([false, true, true]);
    const drawn = screen.getAllByRole("row").length;
    expect(drawn).toBeGreaterThan(1);
    expect(drawn).toBeLessThan(80);
    expect(screen.getByRole("table").getAttribute("aria-rowcount")).toBe("10001");
  });

  it("prefix search, chain, status and host filters narrow the rows (in the worker) and stay in the URL", async () => {
    renderApp(<KeyTable portFactory={inProcessPort} />, { fetch: keysApi(rows).fetch, path: "/keys" });
    await waitFor(() => expect(showing()).toBe("Showing 10,000 of 10,000 keys"));
    const search = screen.getByLabelText("Public key starts with");
    fireEvent.change(search, { target: { value: "0x0001" } });
    const want = rows.filter((r) => r.pubkey.startsWith("0x0001")).length;
    await waitFor(() => expect(showing()).toBe(`Showing ${want.toLocaleString("en")} of 10,000 keys`));
    expect(location.search).toBe("?q=0x0001");
    fireEvent.change(search, { target: { value: "0x00zz" } });
    expect(screen.getByText("A public key has only hex digits (0-9, a-f).")).toBeTruthy();
    expect(search.getAttribute("aria-invalid")).toBe("true");
    fireEvent.change(search, { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("Chain"), { target: { value: "harmony" } });
    fireEvent.change(screen.getByLabelText("Host"), { target: { value: "3" } });
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "inactive" } });
    const n = rows.filter((r) => r.chain === "harmony" && r.host_id === 3 && r.status === "inactive").length;
    await waitFor(() => expect(showing()).toBe(`Showing ${n} of 10,000 keys on host-3`));
    const drawn = screen.getAllByRole("row").slice(1);
    expect(drawn.length).toBeLessThan(n);
    expect(drawn.length).toBeGreaterThan(5);
    for (const row of drawn) {
      expect(row.textContent).toContain("harmony");
      expect(row.textContent).toContain("host-3");
      expect(row.textContent).toContain("inactive");
    }
  });

  it("sorts by a column header, both ways, announced with aria-sort; a row opens the key's timeline", async () => {
    renderApp(<KeyTable portFactory={inProcessPort} />, { fetch: keysApi(rows.slice(0, 50)).fetch, path: "/keys" });
    await waitFor(() => expect(showing()).toBe("Showing 50 of 50 keys"));
    const header = () => screen.getByRole("columnheader", { name: /Changed/ });
    expect(header().getAttribute("aria-sort")).toBe("none");
    fireEvent.click(screen.getByRole("button", { name: /Changed/ }));
    await waitFor(() => expect(header().getAttribute("aria-sort")).toBe("ascending"));
    fireEvent.click(screen.getByRole("button", { name: /Changed/ }));
    await waitFor(() => expect(header().getAttribute("aria-sort")).toBe("descending"));
    // newest change first
    await waitFor(() => expect(screen.getAllByRole("row")[1]!.textContent).toContain(rows[49]!.host));
    const first = screen.getAllByRole("row")[1]!.querySelector("a")!;
    fireEvent.click(first);
    expect(location.pathname).toBe(`/keys/${rows[49]!.pubkey}`);
  });

  it("empty and error states say what to do", async () => {
    const empty = renderApp(<KeyTable portFactory={inProcessPort} />, { fetch: keysApi([]).fetch, path: "/keys" });
    await waitFor(() => expect(screen.getByText("No key reported yet")).toBeTruthy());
    empty.unmount();
    renderApp(<KeyTable portFactory={inProcessPort} />, {
      fetch: fakeApi({
        "GET /api/v1/keys": () => ({ status: 503, body: { code: "ERR_STORE_UNAVAILABLE", message: "down" } }),
      }).fetch,
      path: "/keys",
    });
    await waitFor(() => expect(screen.getByText("Keys could not be loaded")).toBeTruthy());
    expect(screen.getByRole("alert").textContent).toContain("ERR_STORE_UNAVAILABLE");
  });
});

describe("key timeline", () => {
  const pk = `0x${"a1".repeat(48)}`;
  const timeline = (o: Partial<Timeline> = {}): Timeline => ({
    pubkey: pk,
    from: "1970-01-01T00:00:00.000Z",
    to: "2026-01-01T12:00:00.000Z",
    intervals: [
      {
        host_id: 1,
        host: "alpha",
        chain: "ethereum",
        present: true,
        active: true,
        stale: false,
        from: "2026-01-01T10:00:00.000Z",
        to: null,
      },
      {
        host_id: 2,
        host: "beta",
        chain: "ethereum",
        present: true,
        active: false,
        stale: false,
        from: "2026-01-01T10:00:00.000Z",
        to: "2026-01-01T11:00:00.000Z",
      },
      {
        host_id: 2,
        host: "beta",
        chain: "ethereum",
        present: true,
        active: true,
        stale: true,
        from: "2026-01-01T11:00:00.000Z",
        to: null,
      },
    ],
    alerts: [alert(4, { pubkey: pk, first_seen: "2026-01-01T11:00:05.000Z" })],
    signatures: {
      available: true,
      reason: null,
      slots_per_epoch: 32,
      from_epoch: "18446744073709551610",
      to_epoch: "18446744073709551615",
      epochs: [
        { epoch: "18446744073709551610", attestations: 1, blocks: 0 },
        { epoch: "18446744073709551612", attestations: 1, blocks: 1 },
        { epoch: "18446744073709551615", attestations: 1, blocks: 0 },
      ],
    },
    ...o,
  });

  it("draws the hosts over time with the alerts, and the signatures per epoch (u64 epochs exact)", async () => {
    const api = fakeApi({ "GET /api/v1/keys/:pk/timeline": () => ({ body: { data: timeline() } }) });
    renderApp(<KeyTimeline pubkey={pk} />, { fetch: api.fetch, path: `/keys/${pk}` });
    const lanes = await screen.findByRole("img", { name: /2 hosts held this key/ });
    expect(lanes.textContent).toContain("alpha");
    expect(lanes.querySelectorAll("rect.iv-active")).toHaveLength(1);
    expect(lanes.querySelectorAll("rect.iv-present")).toHaveLength(1);
    expect(lanes.querySelectorAll("rect.iv-stale")).toHaveLength(1);
    expect(lanes.querySelectorAll("g.al-critical")).toHaveLength(1);
    const bars = screen.getByRole("img", {
      name: "Epochs 18446744073709551610 to 18446744073709551615: 3 attestations and 1 block proposals signed; 3 epochs without a signature.",
    });
    expect(bars.querySelectorAll("rect.bar-att")).toHaveLength(3);
    expect(bars.querySelectorAll("rect.bar-gap")).toHaveLength(3);
    expect(bars.textContent).toContain("epoch 18446744073709551612: 1 attestation, 1 block");
    expect(screen.getByText(/Key active on two hosts #4/)).toBeTruthy();
  });

  it("explains why there are no signatures", async () => {
    const reason = "Signatures per epoch are recorded for Ethereum keys only.";
    const t = timeline({
      signatures: { available: false, reason, slots_per_epoch: 32, from_epoch: null, to_epoch: null, epochs: [] },
    });
    renderApp(<KeyTimeline pubkey={pk} />, {
      fetch: fakeApi({ "GET /api/v1/keys/:pk/timeline": () => ({ body: { data: t } }) }).fetch,
    });
    expect((await screen.findByText("No signatures to show")).parentElement!.textContent).toContain(reason);
  });
});
