import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { attestationRequest, blockRequest, everyType, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { generateTestKeys, postJson, type SignerProcess, startSignerProcess } from "../utils/signerProcess.js";
import { ENGINES, type Engine, freshStoreUrl, markPostgresSkipped, tempDir } from "../utils/stores.js";

/**
 * Issue 15 item 2 / issue 14 defect 9, from outside the process: numbers that are not canonical u64
 * decimals, sent for one key while another key signs a burst, are each a typed 400 and never fail the
 * other key's requests (before the fix an out-of-range value reached the group-commit batch and failed
 * every request in it with a 500; on unprotected types it was wrapped mod 2^64 and signed).
 */
const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];
const TWO_64 = "18446744073709551616";

type Body = Record<string, any>;

/** A copy of `body` with the value at `path` replaced. */
function set(body: Body, path: string[], value: unknown): Body {
  const copy = structuredClone(body);
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]!] = value;
  return copy;
}

function badRequests(): { name: string; body: Body }[] {
  const byName = new Map(everyType(300).map((r) => [r.name.split(" ")[0]!, r.body]));
  const att = attestationRequest(40, 41).body;
  const blk = blockRequest(9000).body;
  return [
    { name: "attestation target 2^64", body: set(att, ["attestation", "target", "epoch"], TWO_64) },
    { name: "attestation source -1", body: set(att, ["attestation", "source", "epoch"], "-1") },
    { name: "attestation slot 0x10", body: set(att, ["attestation", "slot"], "0x10") },
    { name: "block slot 2^64", body: set(blk, ["beacon_block", "block_header", "slot"], TWO_64) },
    { name: "block slot with a space", body: set(blk, ["beacon_block", "block_header", "slot"], " 5") },
    { name: "block slot empty", body: set(blk, ["beacon_block", "block_header", "slot"], "") },
    { name: "exit epoch 2^64", body: set(byName.get("VOLUNTARY_EXIT")!, ["voluntary_exit", "epoch"], TWO_64) },
    {
      name: "registration timestamp -1",
      body: set(byName.get("VALIDATOR_REGISTRATION")!, ["validator_registration", "timestamp"], "-1"),
    },
    { name: "aggregation slot +5", body: set(byName.get("AGGREGATION_SLOT")!, ["aggregation_slot", "slot"], "+5") },
    { name: "randao epoch 05", body: set(byName.get("RANDAO_REVEAL")!, ["randao_reveal", "epoch"], "05") },
    {
      name: "sync committee message slot 2^64",
      body: set(byName.get("SYNC_COMMITTEE_MESSAGE")!, ["sync_committee_message", "slot"], TWO_64),
    },
    {
      name: "sync selection proof subcommittee 1e3",
      body: set(
        byName.get("SYNC_COMMITTEE_SELECTION_PROOF")!,
        ["sync_aggregator_selection_data", "subcommittee_index"],
        "1e3",
      ),
    },
    {
      name: "aggregate slot 2^64",
      body: set(byName.get("AGGREGATE_AND_PROOF")!, ["aggregate_and_proof", "aggregate", "data", "slot"], TWO_64),
    },
    { name: "fork epoch 2^64", body: set(att, ["fork_info", "fork", "epoch"], TWO_64) },
  ];
}

describe.each(ENGINES)("bad u64 numbers against a real signer on %s", (engine: Engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("40 good concurrent requests for one key all answer 200 while bad numbers for another key answer 400", async () => {
    const t = tempDir("sg-sec-");
    cleanups.push(t.cleanup);
    const db = await freshStoreUrl(engine);
    cleanups.push(db.cleanup);
    const [good, bad] = await generateTestKeys(join(t.dir, "keys"), 2);
    const s: SignerProcess = await startSignerProcess([
      "--db",
      db.url,
      ...NET,
      "--keystores",
      join(t.dir, "keys"),
      "--keymanager-token-file",
      join(t.dir, "token"),
    ]);
    cleanups.push(() => s.stop());
    const sign = (key: string, body: unknown) => postJson(`${s.url}/api/v1/eth2/sign/${key}`, body);

    // the good key's first records set its low watermarks, so the burst may arrive in any order
    expect((await sign(good!, attestationRequest(0, 1).body)).status).toBe(200);
    expect((await sign(good!, blockRequest(1).body)).status).toBe(200);

    const goodBodies = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? attestationRequest(i + 1, i + 2).body : blockRequest(100 + i).body,
    );
    const bads = badRequests();
    // interleaved so that bad requests share group-commit batches with good ones
    const calls: Promise<{ kind: "good" | "bad"; name: string; status: number; json: any }>[] = [];
    goodBodies.forEach((body, i) => {
      calls.push(sign(good!, body).then((r) => ({ kind: "good", name: `good ${i}`, ...r })));
      const b = bads[i % bads.length]!;
      if (i < bads.length * 2) calls.push(sign(bad!, b.body).then((r) => ({ kind: "bad", name: b.name, ...r })));
    });
    const answers = await Promise.all(calls);

    const goods = answers.filter((a) => a.kind === "good");
    expect(goods).toHaveLength(40);
    expect(goods.filter((a) => a.status !== 200).map((a) => `${a.name}: ${a.status} ${a.json?.code}`)).toEqual([]);
    const refused = answers.filter((a) => a.kind === "bad");
    expect(refused.length).toBe(bads.length * 2);
    expect(
      refused
        .filter((a) => a.status !== 400 || a.json?.code !== "ERR_BAD_REQUEST")
        .map((a) => `${a.name}: ${a.status}`),
    ).toEqual([]);

    // nothing of the bad requests was recorded: the other key still signs its first attestation and block
    expect((await sign(bad!, attestationRequest(40, 41).body)).status).toBe(200);
    expect((await sign(bad!, blockRequest(9000).body)).status).toBe(200);
    // and the process is healthy
    expect((await fetch(`${s.url}/upcheck`)).status).toBe(200);
  });
});

markPostgresSkipped("bad u64 numbers against a real signer");
