import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqlLeaseStore } from "../../../src/failover/lease/sqlLease.js";
import { openStore } from "../../../src/store/openStore.js";
import { dropPostgresDb, freshPostgresUrl, HAS_PG } from "../../utils/stores.js";
import { REPO_ROOT } from "../../utils/vectors.js";

const dist = (p: string): string => join(REPO_ROOT, "dist", p);

/** A process that races for the lease `rounds` times and prints each grant it won (with the epoch). */
const RACER = `
const { openStore } = await import(${JSON.stringify(dist("store/openStore.js"))});
const { SqlLeaseStore } = await import(${JSON.stringify(dist("failover/lease/sqlLease.js"))});
const [url, me, rounds, holdAndDie] = process.argv.slice(1);
const store = await openStore(url);
const lease = new SqlLeaseStore({ name: "race", reserveMs: 0 }, store);
for (let i = 0; i < Number(rounds); i++) {
  try {
    const { grant } = await lease.acquire({ holder: me, ttlMs: 30000, stopTimeoutMs: 0, reason: "race" });
    console.log("won " + grant.epoch + " " + Date.now());
    if (holdAndDie === "die") await new Promise(() => {});
    await new Promise((r) => setTimeout(r, 5));
    const end = Date.now();
    await lease.release(grant, { holderStopped: true, handoverTo: null });
    console.log("end " + grant.epoch + " " + end);
  } catch (e) {
    if (e.code !== "ERR_FAILOVER_LEASE_HELD") { console.log("error " + e.code); process.exit(1); }
  }
  await new Promise((r) => setTimeout(r, Math.random() * 5));
}
await store.close();
`;

function racer(url: string, me: string, rounds: number, mode = "normal") {
  const child = spawn(process.execPath, ["--input-type=module", "-e", RACER, url, me, String(rounds), mode]);
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<string[]>((resolve) => child.on("close", () => resolve(out.split("\n").filter(Boolean))));
  return { child, done, output: () => out };
}

let db: string | null = null;
afterEach(async () => {
  if (db !== null) await dropPostgresDb(db);
  db = null;
});

describe.skipIf(!HAS_PG)("failover lease shared by processes (PostgreSQL)", () => {
  it("three processes racing on one database: epochs unique and gapless, holdings never overlap", async () => {
    db = await freshPostgresUrl();
    await (await openStore(db)).close(); // migrate once
    const outs = await Promise.all(["p1", "p2", "p3"].map((p) => racer(db!, p, 60).done));
    const grants: { who: string; epoch: number; start: number; end: number }[] = [];
    outs.forEach((lines, i) => {
      expect(lines.filter((l) => l.startsWith("error"))).toEqual([]);
      const ends = new Map(
        lines.filter((l) => l.startsWith("end")).map((l) => [l.split(" ")[1], Number(l.split(" ")[2])]),
      );
      for (const l of lines.filter((x) => x.startsWith("won"))) {
        const [, e, t] = l.split(" ");
        grants.push({ who: `p${i + 1}`, epoch: Number(e), start: Number(t), end: ends.get(e!)! });
      }
    });
    grants.sort((a, b) => a.epoch - b.epoch);
    expect(grants.map((g) => g.epoch)).toEqual(grants.map((_, i) => i + 1));
    expect(new Set(grants.map((g) => g.who)).size).toBeGreaterThan(1);
    for (let i = 1; i < grants.length; i++) expect(grants[i]!.start).toBeGreaterThanOrEqual(grants[i - 1]!.end);
  });

  it("durability: a holder SIGKILLed right after its grant leaves the grant committed", async () => {
    db = await freshPostgresUrl();
    await (await openStore(db)).close();
    const r = racer(db, "victim", 1, "die");
    while (!r.output().includes("won")) await new Promise((x) => setTimeout(x, 20));
    r.child.kill("SIGKILL");
    await r.done;
    const store = await openStore(db);
    try {
      const rec = await new SqlLeaseStore({ name: "race", reserveMs: 0 }, store).read();
      expect(rec).toMatchObject({ holder: "victim", epoch: 1n, live: true });
    } finally {
      await store.close();
    }
  });
});
