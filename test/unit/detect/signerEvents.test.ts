import { describe, expect, it } from "vitest";
import {
  dbNotFailoverSafeEvent,
  parseSignerEvents,
  signerEventDedupKey,
  storeWentBackwardsEvent,
  toDetection,
} from "../../../src/detect/signerEvents.js";

const seen = {
  durability: "replicated",
  setup: "async_standby",
  synchronousStandbyNames: "",
  standbys: 1,
  syncStandbys: 0,
};

describe("database alerts of a signer (issue 17)", () => {
  it("db_not_failover_safe and store_went_backwards are critical, of no chain and no key, one per signer source", () => {
    for (const e of [
      dbNotFailoverSafeEvent(seen, "signer@a:1"),
      storeWentBackwardsEvent({ ethereum: 2 }, "signer@a:1"),
    ]) {
      const [parsed] = parseSignerEvents(JSON.parse(JSON.stringify({ events: [e] })));
      const d = toDetection(parsed!, 7);
      expect(d).toMatchObject({ kind: e.kind, severity: "critical", chain: null, pubkey: null, ownerId: 7 });
      expect(d.dedupKey).toBe(signerEventDedupKey(e.kind, 7, null, "signer@a:1"));
      expect(signerEventDedupKey(e.kind, 7, null, "signer@b:1")).not.toBe(d.dedupKey);
    }
    expect(dbNotFailoverSafeEvent(seen, "s").evidence).toMatchObject({ durability: "replicated", sync_standbys: 0 });
    expect(storeWentBackwardsEvent({ ethereum: 2 }, "s").evidence).toEqual({ refusals: { ethereum: 2 } });
  });

  it("a database event naming a key is refused (ERR_BAD_REQUEST on pubkey)", () => {
    const e = { ...dbNotFailoverSafeEvent(seen, "s"), pubkey: `0x${"ab".repeat(48)}` };
    expect(() => parseSignerEvents({ events: [e] })).toThrow(
      expect.objectContaining({ type: { code: "ERR_BAD_REQUEST", field: "events[0].pubkey" } }),
    );
  });
});
