import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startMonitor } from "../../src/cli/monitor/startMonitor.js";
import { runCli } from "../utils/cli.js";
import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import {
  HAS_PG_BINARIES,
  pollUntil,
  STANDBY_NAME,
  startPgPair,
  waitForNoSyncStandby,
  waitForStandby,
} from "../utils/pgCluster.js";
import { generateTestKeys, postJson, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { freshStoreUrl, tempDir } from "../utils/stores.js";

/**
 * Issue 17: PostgreSQL high availability with real servers. A primary and a streaming standby made from
 * it with pg_basebackup (test/utils/pgCluster.ts), Ethereum signer processes on the multi-host URL.
 * - asynchronous standby (the reproduction lost 200 records in a promotion and signed their 200
 *   twins): `replicated` refuses to start; `local` starts and exposes the unsafe setup as a metric (the
 *   alert's input), and after a promotion that lost records it released it refuses their twins
 *   (ERR_PROTECTION_STORE_BEHIND); a standby that stops being synchronous stops `replicated` signing.
 * - synchronous standby, primary killed mid-burst (immediate shutdown) and the standby promoted: the
 *   signers follow the new primary without a restart, every released signature has its record there
 *   and no conflicting pair was ever released.
 * - the database's alerts reach a monitor the signers point at (--monitor-url): db_not_failover_safe
 *   (a refused start, an asynchronous standby, a standby that stops being synchronous) and
 *   store_went_backwards (the lost tail), both critical.
 */
const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];

async function metric(s: SignerProcess, name: string): Promise<string> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .join("\n");
}

describe.skipIf(!HAS_PG_BINARIES)("PostgreSQL primary + standby under signer processes", { timeout: 150_000 }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  }, 30_000);

  async function keys(n: number): Promise<{ dir: string; pubkeys: string[] }> {
    const t = tempDir("sg-pgha-");
    cleanups.push(t.cleanup);
    return { dir: t.dir, pubkeys: await generateTestKeys(join(t.dir, "keys"), n) };
  }
  const signerArgs = (db: string, dir: string, durability: string): string[] => [
    "--db",
    db,
    "--db-durability",
    durability,
    ...NET,
    "--keystores",
    join(dir, "keys"),
    "--keymanager-token-file",
    join(dir, "token"),
  ];
  async function signer(db: string, dir: string, durability: string, extra: string[] = []): Promise<SignerProcess> {
    const s = await startSignerProcess([...signerArgs(db, dir, durability), ...extra]);
    cleanups.push(() => s.stop());
    return s;
  }

  /** A fleet monitor (in this process) with an agent token for the signers; `open(kind)`: its unresolved alerts. */
  async function monitor(): Promise<{ args: string[]; open(kind: string): Promise<Record<string, any>[]> }> {
    const db = await freshStoreUrl("sqlite");
    cleanups.push(db.cleanup);
    const m = await startMonitor({
      db: db.url,
      port: 0,
      logLevel: "silent",
      configDoc: { monitor: { sweep_interval: 3_600_000, dashboard: false } },
    });
    cleanups.push(() => m.stop());
    const t = tempDir("sg-pgha-mon-");
    cleanups.push(t.cleanup);
    const tokenFile = join(t.dir, "agent-token");
    writeFileSync(tokenFile, `${(await m.tokens.create("ops", "agent", "pgha")).token}\n`, { mode: 0o600 });
    const operator = (await m.tokens.create("ops", "operator")).token;
    return {
      args: ["--monitor-url", m.url, "--monitor-token-file", tokenFile],
      open: async (kind) => {
        const res = await fetch(`${m.url}/api/v1/alerts?kind=${kind}`, {
          headers: { authorization: `Bearer ${operator}` },
        });
        return ((await res.json()) as { data: Record<string, any>[] }).data.filter((a) => a.status !== "resolved");
      },
    };
  }

  it("asynchronous standby: replicated refuses to start; local runs with the unsafe setup in its metrics and, after a promotion that lost records it released, refuses their twins", async () => {
    const { primary, standby, url } = await startPgPair(false);
    cleanups.push(primary.stop, standby.stop);
    const { dir, pubkeys } = await keys(4);
    const mon = await monitor();
    const notSafe = async (durability: string): Promise<Record<string, any>[]> =>
      (await mon.open("db_not_failover_safe")).filter((a) => a.evidence.durability === durability);

    const refused = await runCli(["signer", "--port", "0", ...signerArgs(url, dir, "replicated"), ...mon.args]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^slashguard: ERR_STORE_NOT_REPLICATED:/m);
    // the refused start told the monitor before it exited
    const [atStart] = await notSafe("replicated");
    expect(atStart).toMatchObject({ severity: "critical", chain: null, evidence: { setup: "async_standby" } });

    const local = await signer(url, dir, "local", mon.args);
    await pollUntil(async () => (await notSafe("local")).length === 1, "db_not_failover_safe from the local signer");
    expect((await notSafe("local"))[0]).toMatchObject({ severity: "critical", evidence: { setup: "async_standby" } });
    expect(await metric(local, "slashguard_db_durability_ok")).toBe("slashguard_db_durability_ok 0");
    expect(await metric(local, 'slashguard_db_replication_setup{setup="async_standby"}')).toMatch(/ 1$/);
    const status = await runCli(["protection", "status", "--db", url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^database: postgres primary 127\.0\.0\.1:\d+ replication async_standby /m);

    // made synchronous, a replicated signer runs; when the standby stops being synchronous it stops signing
    await primary.admin(`ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
    await primary.reload("synchronous_standby_names", STANDBY_NAME);
    await waitForStandby(primary, true);
    const replicated = await signer(url, dir, "replicated", mon.args);
    expect(await metric(replicated, "slashguard_db_durability_ok")).toBe("slashguard_db_durability_ok 1");
    const key = pubkeys[0]!;
    const ok = await postJson(`${replicated.url}/api/v1/eth2/sign/${key}`, attestationRequest(1, 2).body);
    expect(ok.status).toBe(200);
    await primary.admin("ALTER SYSTEM RESET synchronous_standby_names");
    await primary.reload("synchronous_standby_names", "");
    await waitForNoSyncStandby(primary); // every commit's check reads pg_stat_replication
    const r = await postJson(`${replicated.url}/api/v1/eth2/sign/${key}`, attestationRequest(2, 3).body);
    expect(r.status).toBe(503);
    expect(r.json.code).toBe("ERR_STORE_NOT_REPLICATED");
    expect(await metric(replicated, "slashguard_db_durability_ok")).toBe("slashguard_db_durability_ok 0");
    // its alert: a second replicated source beside the refused start's
    await pollUntil(async () => (await notSafe("replicated")).length === 2, "db_not_failover_safe while running");
    await replicated.stop();
    expect(await mon.open("store_went_backwards")).toHaveLength(0);

    // the reproduction: the asynchronous standby falls behind (its WAL receiver is cut off), the
    // local signer releases signatures, the primary dies and the standby is promoted without them
    await standby.admin("ALTER SYSTEM SET primary_conninfo = ''");
    await standby.reload("primary_conninfo", "");
    await pollUntil(async () => (await primary.query("SELECT 1 FROM pg_stat_replication")).length === 0, "detached");
    for (const k of pubkeys) {
      const res = await postJson(`${local.url}/api/v1/eth2/sign/${k}`, attestationRequest(4, 5, 1).body);
      expect(res.status).toBe(200);
    }
    await primary.kill();
    await standby.promote();
    const lost = await standby.query("SELECT count(*)::int AS n FROM eth_signed_attestations WHERE target_epoch = 5");
    expect(lost[0]!.n).toBe(0); // the tail is really gone
    // the conflicting twins: refused for every key (the first tries may fail closed while the store reconnects)
    for (const k of pubkeys) {
      let res = await postJson(`${local.url}/api/v1/eth2/sign/${k}`, attestationRequest(4, 5, 2).body);
      for (let i = 0; i < 20 && res.status === 503; i++)
        res = await postJson(`${local.url}/api/v1/eth2/sign/${k}`, attestationRequest(4, 5, 2).body);
      expect(res.status).toBe(412);
      expect(res.json.code).toBe("ERR_PROTECTION_STORE_BEHIND");
    }
    expect(
      await metric(local, 'slashguard_protection_refusals_total{chain="ethereum",code="ERR_PROTECTION_STORE_BEHIND"}'),
    ).toMatch(/ 4$/);
    // and the monitor has the critical alert, with the refusals per chain
    await pollUntil(
      async () => (await mon.open("store_went_backwards"))[0]?.evidence.refusals?.ethereum === 4,
      "store_went_backwards with 4 refusals",
    );
    expect((await mon.open("store_went_backwards"))[0]).toMatchObject({ severity: "critical", chain: null });
  });

  it("synchronous standby: primary killed mid-burst, standby promoted; three signers follow it without restart and lose no released record", async () => {
    const { primary, standby, url } = await startPgPair(true);
    cleanups.push(primary.stop, standby.stop);
    const { dir, pubkeys } = await keys(4);
    const signers = await Promise.all([0, 1, 2].map(() => signer(url, dir, "local")));
    for (const s of signers)
      expect(await metric(s, "slashguard_db_durability_ok")).toBe("slashguard_db_durability_ok 1");

    // round r: for every key, three conflicting attestations at target r (one per signer, other roots)
    const released: { key: string; target: number; tag: number; signature: string; at: number }[] = [];
    const round = async (target: number): Promise<void> => {
      await Promise.all(
        pubkeys.flatMap((key) =>
          signers.map(async (s, i) => {
            const req = attestationRequest(target - 1, target, 1 + i);
            const r = await postJson(`${s.url}/api/v1/eth2/sign/${key}`, req.body).catch(() => null);
            if (r?.status === 200)
              released.push({ key, target, tag: 1 + i, signature: r.json.signature as string, at: Date.now() });
          }),
        ),
      );
    };
    let target = 1;
    for (; target <= 10; target++) await round(target);
    expect(released).toHaveLength(10 * pubkeys.length);

    // the primary dies mid-burst; a cluster manager promotes the standby right away and, with no
    // spare standby, stops waiting for one (Patroni's synchronous_mode without synchronous_mode_strict)
    const burst = round(target++);
    await primary.kill();
    const killedAt = Date.now();
    await burst;
    await standby.promote();
    await standby.admin("ALTER SYSTEM RESET synchronous_standby_names");
    await standby.reload("synchronous_standby_names", "");
    // bound: the first transaction after the kill fails closed (connection lost), the next finds the new
    // primary (one probe per listed host); a few rounds at most, each a few round trips on loopback
    let resumedAt = 0;
    for (let i = 0; i < 20 && resumedAt === 0; i++, target++) {
      const before = released.length;
      await round(target);
      if (released.length > before) resumedAt = Date.now();
    }
    expect(resumedAt).toBeGreaterThan(0);
    console.info(`signing resumed ${resumedAt - killedAt} ms after the primary was killed`);
    // every signer follows: each one releases again on the new primary
    for (let k = 0; k < 3; k++, target++) await round(target);
    for (const s of signers) {
      const req = attestationRequest(target - 1, target, 9);
      const r = await postJson(`${s.url}/api/v1/eth2/sign/${pubkeys[0]}`, req.body);
      expect(r.status).toBe(200);
      released.push({ key: pubkeys[0]!, target, tag: 9, signature: r.json.signature as string, at: Date.now() });
      target++;
    }

    // no slashable pair released: at most one signature per key and target
    const perTarget = new Map<string, Set<string>>();
    for (const r of released) {
      const k = `${r.key}/${r.target}`;
      perTarget.set(k, (perTarget.get(k) ?? new Set()).add(r.signature));
    }
    for (const sigs of perTarget.values()) expect(sigs.size).toBe(1);
    // every released signature has its record on the new primary, with the signed root
    const rows = await standby.query(
      `SELECT encode(v.pubkey, 'hex') AS key, a.target_epoch::text AS target, encode(a.signing_root, 'hex') AS root
         FROM eth_signed_attestations a JOIN eth_validators v ON v.id = a.validator_id`,
    );
    const stored = new Map(rows.map((r) => [`0x${r.key}/${r.target}`, `0x${r.root}`]));
    for (const r of released) {
      const root = attestationRequest(r.target - 1, r.target, r.tag).root;
      expect(stored.get(`${r.key.toLowerCase()}/${r.target}`), `${r.key}/${r.target}`).toBe(root.toLowerCase());
    }
  });
});

if (!HAS_PG_BINARIES)
  it.skip("PostgreSQL high availability: SKIPPED, no PostgreSQL server binaries (initdb) on this machine", () => {});
