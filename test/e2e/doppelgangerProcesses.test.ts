import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { FakeBeaconNode } from "../utils/fakeBeacon.js";
import { waitFor } from "../utils/lodestar.js";
import { generateTestKeys, postJson, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { freshStoreUrl, HAS_PG, tempDir } from "../utils/stores.js";

interface KeyStatus {
  pubkey: string;
  status: string;
  detail: string;
}

const statusOf = async (s: SignerProcess, key: string): Promise<KeyStatus | undefined> =>
  ((await (await fetch(`${s.url}/api/v1/eth2/doppelganger`)).json()) as { data: KeyStatus[] }).data.find(
    (k) => k.pubkey === key,
  );

/**
 * Real signer processes sharing one database (PostgreSQL; SQLite where PostgreSQL is missing) against
 * a fake beacon node that lives in real time (1 s slots, 4 slots per epoch): a detection made by one
 * process is refused by another that never saw the twin, survives a SIGKILL, and is cleared for all.
 */
describe(`doppelganger guard across signer processes on one ${HAS_PG ? "PostgreSQL" : "SQLite"} database`, () => {
  const t = tempDir("sg-dg-procs-");
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    t.cleanup();
  });

  it("one process detects, the others refuse, the detection survives SIGKILL, a clear reaches all", async () => {
    const bn = new FakeBeaconNode({
      genesisTimeSec: Math.floor(Date.now() / 1000) - 12,
      secondsPerSlot: 1,
      slotsPerEpoch: 4,
      genesisValidatorsRoot: TEST_GVR_HEX,
      now: Date.now,
    });
    await bn.start();
    stops.push(() => bn.stop());
    const db = await freshStoreUrl(HAS_PG ? "postgres" : "sqlite");
    stops.push(db.cleanup);
    const [good, twin] = await generateTestKeys(join(t.dir, "keys"), 2);
    bn.validators = [good!, twin!].map((pubkey, index) => ({ index, pubkey }));
    const twinLive = setInterval(() => bn.setLive(bn.currentEpoch(), 1), 200);
    stops.push(async () => clearInterval(twinLive));
    const signer = async (): Promise<SignerProcess> => {
      const s = await startSignerProcess([
        "--db",
        db.url,
        "--network",
        "custom",
        "--genesis-validators-root",
        TEST_GVR_HEX,
        "--keystores",
        join(t.dir, "keys"),
        "--keymanager-token-file",
        join(t.dir, "token"),
        "--beacon-node",
        bn.url,
      ]);
      stops.push(() => s.stop());
      return s;
    };

    const a = await signer();
    await waitFor(async () => (await statusOf(a, twin!))?.status === "doppelganger_detected", 30_000);
    await waitFor(async () => (await statusOf(a, good!))?.status === "verified", 30_000);
    clearInterval(twinLive); // the twin goes quiet: from now on only the store knows about it

    // a second process never sees the twin live, yet refuses the key from its first round on
    const b = await signer();
    await waitFor(async () => (await statusOf(b, twin!))?.status === "doppelganger_detected", 15_000);
    expect((await postJson(`${b.url}/api/v1/eth2/sign/${twin}`, attestationRequest(1, 2).body)).json.code).toBe(
      "ERR_DOPPELGANGER_DETECTED",
    );
    expect((await postJson(`${a.url}/api/v1/eth2/sign/${good}`, attestationRequest(1, 2).body)).status).toBe(200);

    // SIGKILL right after the detection: the restarted process refuses the key without asking the chain
    await a.kill();
    const a2 = await signer();
    await waitFor(async () => (await statusOf(a2, twin!))?.status === "doppelganger_detected", 15_000);
    expect((await statusOf(a2, twin!))!.detail).toMatch(/found by signer@/);

    // an operator clears it on one process: every process checks the key again
    const token = readFileSync(join(t.dir, "token"), "utf8").trim();
    const cleared = await fetch(`${b.url}/api/v1/eth2/doppelganger/${twin}/clear`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ by: "alice" }),
    });
    expect(cleared.status).toBe(200);
    await waitFor(async () => (await statusOf(a2, twin!))?.status !== "doppelganger_detected", 15_000);
    expect((await statusOf(a2, twin!))!.status).toBe("unverified");
  });
});
