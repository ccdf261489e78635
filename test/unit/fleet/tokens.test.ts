import { afterEach, describe, expect, it } from "vitest";
import { hashToken, TokenService } from "../../../src/fleet/tokens.js";
import { ManualClock } from "../../utils/monitorParts.js";
import { ENGINES, openTestStore, type TestStore } from "../../utils/stores.js";

describe.each(ENGINES)("owner tokens on %s", (engine) => {
  let ts: TestStore;
  afterEach(async () => {
    await ts?.dispose();
  });

  it("a token is stored only as its SHA-256 and authenticates its owner and role", async () => {
    ts = await openTestStore(engine);
    const svc = new TokenService(ts.store);
    const { token } = await svc.create("alice", "operator", "laptop");
    const rows = await ts.store.tx((tx) => tx.all<Record<string, unknown>>("SELECT * FROM fleet_tokens"));
    const dump = JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(4));
    expect(Buffer.from(rows[0]!.token_hash as Uint8Array).equals(Buffer.from(hashToken(token)))).toBe(true);
    expect(await svc.authenticate(token)).toMatchObject({ ownerName: "alice", role: "operator" });
    expect(await svc.authenticate(`${token}x`)).toBeNull();
    expect(await svc.authenticate("Bearer nonsense")).toBeNull();
    const again = await svc.create("alice", "agent");
    expect((await svc.authenticate(again.token))?.ownerId).toBe((await svc.authenticate(token))?.ownerId);
  });

  it("a revoked token stops working once the short cache expires, on every process", async () => {
    ts = await openTestStore(engine);
    const clock = new ManualClock();
    const a = new TokenService(ts.store, clock.now);
    const b = new TokenService(ts.store, clock.now); // another monitor process
    const { token, id } = await a.create("bob", "agent");
    expect(await b.authenticate(token)).not.toBeNull();
    expect(await a.revoke(id)).toBe(true);
    expect(await a.authenticate(token)).toBeNull();
    clock.advance(5001);
    expect(await b.authenticate(token)).toBeNull();
    expect(await a.revoke(id)).toBe(false);
    expect((await a.list()).map((t) => [t.ownerName, t.revokedAt !== null])).toEqual([["bob", true]]);
  });

  it("owner names and roles are checked", async () => {
    ts = await openTestStore(engine);
    const svc = new TokenService(ts.store);
    await expect(svc.create("bad name", "agent")).rejects.toMatchObject({ code: "ERR_BAD_REQUEST" });
    await expect(svc.create("ok", "root" as "agent")).rejects.toMatchObject({ code: "ERR_BAD_REQUEST" });
  });
});
