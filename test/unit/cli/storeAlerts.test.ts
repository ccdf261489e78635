import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { storeAlerts, watchStoreBehind } from "../../../src/cli/signer/alertRelay.js";
import type { SignerEvent } from "../../../src/detect/signerEvents.js";
import { createProtectionMetrics } from "../../../src/protection/metrics.js";
import { nullLogger } from "../../../src/util/logger.js";

const seen = (setup: string) => ({
  durability: "local",
  setup,
  synchronousStandbyNames: "",
  standbys: 1,
  syncStandbys: 0,
});

function sink(): { sent: SignerEvent[]; send(e: SignerEvent[]): Promise<void> } {
  const sent: SignerEvent[] = [];
  return { sent, send: async (e) => void sent.push(...e) };
}

describe("a signer's database alerts (issue 17)", () => {
  it("db_not_failover_safe is raised while the setup is unsafe and cleared once it is safe again", () => {
    const s = sink();
    const a = storeAlerts(s, "signer@h:1", nullLogger);
    a.replication(seen("single"), true); // safe from the start: nothing to say
    expect(s.sent).toEqual([]);
    a.replication(seen("async_standby"), false);
    a.replication(seen("sync_standby"), true);
    a.replication(seen("sync_standby"), true);
    expect(s.sent.map((e) => [e.action, e.kind, e.pubkey, e.source])).toEqual([
      ["raise", "db_not_failover_safe", null, "signer@h:1"],
      ["clear", "db_not_failover_safe", null, "signer@h:1"],
    ]);
  });

  it("store_went_backwards is raised when refusals of a store behind grow, from the protection metrics", async () => {
    const s = sink();
    const registry = new Registry();
    const stop = watchStoreBehind(registry, storeAlerts(s, "signer@h:1", nullLogger));
    try {
      const m = createProtectionMetrics(registry);
      m.refusals.inc({ chain: "ethereum", code: "ERR_PROTECTION_DOUBLE_VOTE" });
      await new Promise((r) => setTimeout(r, 1500));
      expect(s.sent).toEqual([]); // other refusals are not this alert
      m.refusals.inc({ chain: "ethereum", code: "ERR_PROTECTION_STORE_BEHIND" }, 2);
      for (let i = 0; i < 100 && s.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(s.sent).toHaveLength(1);
      expect(s.sent[0]).toMatchObject({
        action: "raise",
        kind: "store_went_backwards",
        evidence: { refusals: { ethereum: 2 } },
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect(s.sent).toHaveLength(1); // no growth, no new event
    } finally {
      stop();
    }
  });
});
