import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../src/keys/eip2335.js";
import { runCli } from "../utils/cli.js";
import {
  beaconGet,
  interopSecretKeys,
  LODESTAR_AVAILABLE,
  type Proc,
  SECONDS_PER_SLOT,
  SLOTS_PER_EPOCH,
  startBeaconNode,
  startExternalSignerVc,
  waitFor,
} from "../utils/lodestar.js";
import { type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";

/**
 * A real Lodestar 1.5.1 beacon node and validator client (minimal preset, 2 s slots) with all eight
 * validators signing through `slashguard signer`. The beacon node checks every signature it receives,
 * so blocks on chain and finality prove our roots, domains and signatures right for every duty.
 */
describe.skipIf(!LODESTAR_AVAILABLE)("Lodestar validator client through slashguard signer", () => {
  const procs: (Proc | SignerProcess)[] = [];
  const t = tempDir("sg-lodestar-");
  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    t.cleanup();
  });

  it("proposes, attests, aggregates and syncs until the chain finalizes, every message recorded", async () => {
    const bn = await startBeaconNode(t.dir);
    procs.push(bn.proc);
    const genesis = await beaconGet<{ genesis_validators_root: string }>(bn.url, "/eth/v1/beacon/genesis");
    const spec = await beaconGet<Record<string, string>>(bn.url, "/eth/v1/config/spec");

    const keys = join(t.dir, "keys");
    mkdirSync(keys, { recursive: true });
    for (const [i, sk] of interopSecretKeys(8).entries()) {
      const pk = blst.SecretKey.fromBytes(sk).toPublicKey().toBytes();
      writeFileSync(
        join(keys, `interop-${i}.json`),
        JSON.stringify(await encryptKeystore(sk, pk, "pw", { kdf: "pbkdf2", work: 16 })),
      );
      writeFileSync(join(keys, `interop-${i}.txt`), "pw");
    }
    const db = `sqlite:${join(t.dir, "signer.db")}`;
    const signer = await startSignerProcess([
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
      "--no-doppelganger", // every key signs from genesis here (the guard's own e2e: lodestarDoppelganger.test.ts)
      "--keymanager-token-file",
      join(t.dir, "token"),
    ]);
    procs.push(signer);
    const vc = startExternalSignerVc(t.dir, bn.url, signer.url);
    procs.push(vc);

    // finalized: two thirds of the stake attested through us, epoch after epoch, with valid signatures
    await waitFor(
      async () => {
        const f = await beaconGet<{ finalized: { epoch: string } }>(
          bn.url,
          "/eth/v1/beacon/states/head/finality_checkpoints",
        );
        return Number(f.finalized.epoch) >= 1;
      },
      12 * SLOTS_PER_EPOCH * SECONDS_PER_SLOT * 1000,
      () => `${vc.log()}\n--- beacon node ---\n${bn.proc.log()}`,
    );
    const head = await beaconGet<{ header: { message: { slot: string; proposer_index: string } } }>(
      bn.url,
      "/eth/v1/beacon/headers/head",
    );
    expect(Number(head.header.message.slot)).toBeGreaterThan(0);

    const metrics = await (await fetch(`${signer.url}/metrics`)).text();
    const types = [
      "BLOCK_V2",
      "ATTESTATION",
      "RANDAO_REVEAL",
      "AGGREGATION_SLOT",
      "AGGREGATE_AND_PROOF",
      "SYNC_COMMITTEE_MESSAGE",
      "SYNC_COMMITTEE_SELECTION_PROOF",
      "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
    ];
    for (const type of types) {
      expect(metrics, type).toMatch(
        new RegExp(`slashguard_eth2_sign_requests_total\\{type="${type}",status="200"\\} [1-9]`),
      );
    }
    expect(metrics).not.toMatch(
      /slashguard_eth2_sign_requests_total\{[^}]*status="ERR_(?!ATTESTATION|BLOCK)[A-Z_]+"\}/,
    );

    const status = await runCli(["protection", "status", "--db", db, "--json"]);
    const rows = status.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.attestations > 0)).toBe(true);
    expect(rows.reduce((n, r) => n + r.blocks, 0)).toBeGreaterThan(0);
  });
});
