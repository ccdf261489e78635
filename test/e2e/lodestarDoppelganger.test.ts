import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../src/keys/eip2335.js";
import { runCli, startCli, waitForLine } from "../utils/cli.js";
import {
  beaconGet,
  interopSecretKeys,
  LODESTAR_AVAILABLE,
  type Proc,
  SECONDS_PER_SLOT,
  SLOTS_PER_EPOCH,
  startBeaconNode,
  startExternalSignerVc,
  startLocalKeysVc,
  waitFor,
} from "../utils/lodestar.js";
import { type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";

const EPOCH_MS = SECONDS_PER_SLOT * SLOTS_PER_EPOCH * 1000;
const TWINS = [6, 7];

/**
 * A real Lodestar 1.5.1 beacon node (speaking only the older liveness and validators forms) with 24
 * validators: 8..23 run by a Lodestar validator client of their own (the rest of the network, which
 * keeps the chain going while our keys wait), 0..7 by a Lodestar validator client signing through
 * `slashguard signer` with the doppelganger guard on, and 6 and 7 also by a third Lodestar validator
 * client holding their interop keys itself: the twin. A `slashguard monitor` shares the signer's
 * database and receives its alerts.
 */
describe.skipIf(!LODESTAR_AVAILABLE)("doppelganger guard with a real Lodestar beacon node and a twin", () => {
  const procs: { stop(): Promise<void> }[] = [];
  const t = tempDir("sg-lodestar-dg-");
  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    t.cleanup();
  });

  it("the twin's keys are refused and alerted; the other keys are verified and sign", async () => {
    const bn = await startBeaconNode(t.dir, 24);
    procs.push(bn.proc);
    procs.push(startLocalKeysVc(t.dir, bn.url, "8..23", "vc-network"));
    const genesis = await beaconGet<{ genesis_validators_root: string; genesis_time: string }>(
      bn.url,
      "/eth/v1/beacon/genesis",
    );
    const spec = await beaconGet<Record<string, string>>(bn.url, "/eth/v1/config/spec");
    const twin: Proc = startLocalKeysVc(t.dir, bn.url, `${TWINS[0]}..${TWINS[1]}`);
    procs.push(twin);

    const keys = join(t.dir, "keys");
    mkdirSync(keys, { recursive: true });
    const pubkeys: string[] = [];
    for (const [i, sk] of interopSecretKeys(8).entries()) {
      const pk = blst.SecretKey.fromBytes(sk).toPublicKey().toBytes();
      pubkeys.push(`0x${Buffer.from(pk).toString("hex")}`);
      writeFileSync(
        join(keys, `interop-${i}.json`),
        JSON.stringify(await encryptKeystore(sk, pk, "pw", { kdf: "pbkdf2", work: 16 })),
      );
      writeFileSync(join(keys, `interop-${i}.txt`), "pw");
    }

    // the monitor: its store is the signer's, its tokens are for the signer (agent) and us (operator)
    const db = `sqlite:${join(t.dir, "slashguard.db")}`;
    const token = async (role: string): Promise<string> =>
      (await runCli(["monitor", "token", "create", "--owner", "ops", "--role", role, "--db", db])).stdout.trim();
    const agentToken = await token("agent");
    const operatorToken = await token("operator");
    writeFileSync(join(t.dir, "agent-token"), agentToken);
    const monitor = startCli([
      "monitor",
      "--db",
      db,
      "--port",
      "0",
      "--log-level",
      "warn",
      "--beacon-node",
      bn.url,
      "--ethereum-owner",
      "ops",
    ]);
    procs.push({
      stop: () =>
        new Promise<void>((r) => {
          if (monitor.exitCode !== null) return r();
          monitor.once("exit", () => r());
          monitor.kill("SIGTERM");
        }),
    });
    const monitorUrl = /listening on (\S+)/.exec(await waitForLine(monitor, /monitor listening on \S+/, 60_000))![1]!;

    // the guard skips keys registered in the genesis epoch (nothing to watch then): start in epoch 1
    const genesisMs = Number(genesis.genesis_time) * 1000;
    await waitFor(async () => Date.now() >= genesisMs + EPOCH_MS + 500, 3 * EPOCH_MS);
    const signer: SignerProcess = await startSignerProcess([
      "--db",
      db,
      "--network",
      "custom",
      "--preset",
      "minimal",
      "--genesis-validators-root",
      genesis.genesis_validators_root,
      "--genesis-fork-version",
      spec.GENESIS_FORK_VERSION!,
      "--keystores",
      keys,
      "--keymanager-token-file",
      join(t.dir, "token"),
      "--beacon-node",
      bn.url,
      "--monitor-url",
      monitorUrl,
      "--monitor-token-file",
      join(t.dir, "agent-token"),
    ]);
    procs.push(signer);
    const vc = startExternalSignerVc(t.dir, bn.url, signer.url);
    procs.push(vc);
    const diag = (): string => `${vc.log()}\n--- twin ---\n${twin.log()}\n--- beacon node ---\n${bn.proc.log()}`;

    let last: unknown = null;
    const statuses = async (): Promise<Map<string, string>> => {
      const data = (
        (await (await fetch(`${signer.url}/api/v1/eth2/doppelganger`)).json()) as {
          data: { pubkey: string; status: string }[];
        }
      ).data;
      last = data;
      return new Map(data.map((k) => [k.pubkey, k.status]));
    };
    const twinKeys = TWINS.map((i) => pubkeys[i]!);
    const ownKeys = pubkeys.filter((p) => !twinKeys.includes(p));
    await waitFor(
      async () => {
        const s = await statuses();
        return (
          twinKeys.every((k) => s.get(k) === "doppelganger_detected") && ownKeys.every((k) => s.get(k) === "verified")
        );
      },
      5 * EPOCH_MS,
      () => `${JSON.stringify(last, null, 1)}\n${diag()}`,
    );

    // the verified keys sign through us; the twin's keys are refused whenever the validator client asks
    const status = async () =>
      (await runCli(["protection", "status", "--db", db, "--json"])).stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { pubkey: string; attestations: number });
    let rowsSeen: unknown = null;
    await waitFor(
      async () => {
        const rows = await status();
        rowsSeen = rows;
        return ownKeys.every((k) => (rows.find((r) => r.pubkey === k)?.attestations ?? 0) > 0);
      },
      3 * EPOCH_MS,
      () => `${JSON.stringify(rowsSeen)}\n${vc.log().slice(-3000)}`,
    );
    expect((await status()).filter((r) => twinKeys.includes(r.pubkey)).map((r) => r.attestations)).toEqual([0, 0]);
    const metrics = await (await fetch(`${signer.url}/metrics`)).text();
    expect(metrics).toMatch(
      /slashguard_eth2_sign_requests_total\{type="ATTESTATION",status="ERR_DOPPELGANGER_DETECTED"\} [1-9]/,
    );
    expect(metrics).toMatch(/slashguard_doppelganger_keys\{status="doppelganger_detected"\} 2/);

    // the monitor has the signer's alert for each twin key (and, from its own check, foreign_signer)
    const alerts = async () =>
      (
        (await (
          await fetch(`${monitorUrl}/api/v1/alerts?kind=doppelganger_detected`, {
            headers: { authorization: `Bearer ${operatorToken}` },
          })
        ).json()) as { data: { pubkey: string; severity: string }[] }
      ).data;
    await waitFor(async () => (await alerts()).length === 2, 30_000);
    expect((await alerts()).map((a) => [a.pubkey, a.severity]).sort()).toEqual(
      twinKeys.map((k) => [k, "critical"]).sort(),
    );
    const foreignAlerts = async () =>
      (
        (await (
          await fetch(`${monitorUrl}/api/v1/alerts?kind=foreign_signer`, {
            headers: { authorization: `Bearer ${operatorToken}` },
          })
        ).json()) as { data: { pubkey: string; evidence: unknown; summary: string }[] }
      ).data;
    await waitFor(async () => (await foreignAlerts()).length >= 2, 2 * EPOCH_MS);
    const foreign = { data: await foreignAlerts() };
    expect(foreign.data.map((a) => a.pubkey).sort()).toEqual(expect.arrayContaining(twinKeys.sort()));
    const falsePositives = foreign.data.filter((a) => !twinKeys.includes(a.pubkey));
    expect(falsePositives, JSON.stringify(falsePositives, null, 1)).toEqual([]);
  });
});
