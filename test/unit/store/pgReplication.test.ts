import { describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { assertReplicated, beginDurably, classifyReplication, durabilityOk } from "../../../src/store/pgDurability.js";

const row = (
  synchronous_commit: string,
  synchronous_standby_names: string,
  standbys: number,
  sync_standbys: number,
) => ({
  synchronous_commit,
  synchronous_standby_names,
  standbys: String(standbys),
  sync_standbys: String(sync_standbys),
});

describe("PostgreSQL replication classification (issue 17)", () => {
  it("single, synchronous and asynchronous setups", () => {
    expect(classifyReplication(row("on", "", 0, 0)).setup).toBe("single");
    expect(classifyReplication(row("on", "s1", 1, 1)).setup).toBe("sync_standby");
    expect(classifyReplication(row("remote_apply", "ANY 1 (s1, s2)", 2, 2)).setup).toBe("sync_standby");
    expect(classifyReplication(row("on", "", 1, 0)).setup).toBe("async_standby");
    // named but not attached as synchronous (a different application_name, or still catching up)
    expect(classifyReplication(row("on", "s1", 1, 0)).setup).toBe("async_standby");
    // synchronous_commit local/off never waits for the standby, whatever is named
    expect(classifyReplication(row("local", "s1", 1, 1)).setup).toBe("async_standby");
  });

  it("durability_ok per level, and replicated refuses anything but a synchronous standby", () => {
    const single = classifyReplication(row("on", "", 0, 0));
    const sync = classifyReplication(row("on", "s1", 1, 1));
    const async = classifyReplication(row("on", "", 1, 0));
    expect([single, sync, async].map((s) => durabilityOk("local", s))).toEqual([true, true, false]);
    expect([single, sync, async].map((s) => durabilityOk("replicated", s))).toEqual([false, true, false]);
    expect(() => assertReplicated("replicated", sync)).not.toThrow();
    expect(() => assertReplicated("local", async)).not.toThrow();
    for (const s of [single, async])
      expect(() => assertReplicated("replicated", s)).toThrow(
        expect.objectContaining({ code: StoreErrorCode.NotReplicated }),
      );
  });

  it("replicated reads the replication state in the query that carries BEGIN; local does not", () => {
    expect(beginDurably("replicated")).toContain("pg_stat_replication");
    expect(beginDurably("local")).not.toContain("pg_stat_replication");
    for (const level of ["local", "replicated"] as const)
      expect(beginDurably(level)).toMatch(/^BEGIN; SET LOCAL synchronous_commit = on; SELECT /);
  });
});
