import { describe, expect, it } from "vitest";
import { LockClass, lockKeysStatement } from "../../../src/store/locks.js";
import { pgLiteral } from "../../../src/store/sqlLiteral.js";

describe("PostgreSQL literals for parameter-free statements", () => {
  it("packs 32-byte values end to end, and refuses a NULL or a wrong length (the caller sends them one by one)", () => {
    const a = new Uint8Array(32).fill(0xab);
    const b = new Uint8Array(32).fill(0x01);
    expect(pgLiteral.packed32([a, b])).toBe(`decode('${"ab".repeat(32)}${"01".repeat(32)}', 'hex')`);
    expect(pgLiteral.packed32([a, null])).toBeNull();
    expect(pgLiteral.packed32([a, new Uint8Array(31)])).toBeNull();
  });
});

describe("key lock statements", () => {
  it("take every class's locks once, classes and ids ascending, whatever the batch order", () => {
    const sql = lockKeysStatement("postgres", [
      { cls: LockClass.EthAttestation, id: 30 },
      { cls: LockClass.EthBlock, id: 7 },
      { cls: LockClass.EthAttestation, id: 4 },
      { cls: LockClass.EthAttestation, id: 30 },
      { cls: LockClass.EthBlock, id: 2 },
    ])!;
    const parts = sql.split("; ");
    expect(parts[0]).toContain("pg_advisory_xact_lock_shared(0, 0)");
    expect(parts[1]).toContain(`pg_advisory_xact_lock(${LockClass.EthBlock}, k.id)`);
    expect(parts[1]).toContain("'{2,7}'::int[]");
    expect(parts[2]).toContain(`pg_advisory_xact_lock(${LockClass.EthAttestation}, k.id)`);
    expect(parts[2]).toContain("'{4,30}'::int[]");
    expect(parts).toHaveLength(3);
    expect(lockKeysStatement("sqlite", [{ cls: LockClass.EthBlock, id: 1 }])).toBeUndefined();
  });
});
