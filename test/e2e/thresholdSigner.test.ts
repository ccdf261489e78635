import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterServices, serverCredentials } from "../../src/cluster/clusterGrpc.js";
import { readClusterFile } from "../../src/keys/threshold/clusterFile.js";
import { attestationRequest, blockRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { waitFor } from "../utils/lodestar.js";
import { postJson, type SignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { makeCluster, metricSum, startNode, type TestCluster } from "../utils/thresholdCluster.js";

const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];

function sigOf(sk: blst.SecretKey, rootHex: string): string {
  return `0x${Buffer.from(sk.sign(Buffer.from(rootHex.slice(2), "hex")).toBytes()).toString("hex")}`;
}

/**
 * Three real signer processes, 2-of-3, each with its own SQLite store. The group signature must equal
 * the whole key's own signature (BLS is deterministic), so every answer is checked exactly.
 */
describe("threshold cluster of three signer processes (2-of-3)", () => {
  const t = tempDir("sg-threshold-");
  const sk = blst.SecretKey.fromKeygen(randomBytes(32));
  let c: TestCluster;
  const nodes: SignerProcess[] = [];
  const sign = (node: number, body: unknown) =>
    postJson(`${nodes[node - 1]!.url}/api/v1/eth2/sign/${c.groupKeys[0]}`, body);

  beforeAll(async () => {
    c = await makeCluster(t.dir, 3, 2, [sk.toBytes()]);
    for (const i of [1, 2, 3]) nodes.push(await startNode(c, i, NET));
  }, 120_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    t.cleanup();
  });

  it("lists the group key, signs through any node with the group key's own signature, and refuses a conflicting twin on every node", async () => {
    const keys = (await (await fetch(`${nodes[0]!.url}/api/v1/eth2/publicKeys`)).json()) as string[];
    expect(keys).toEqual(c.groupKeys);
    const a = attestationRequest(1, 2, 7);
    const r1 = await sign(1, a.body);
    expect(r1.status).toBe(200);
    expect(r1.json.signature).toBe(sigOf(sk, a.root));
    // same data again, through another node: the same signature
    const r2 = await sign(3, a.body);
    expect(r2.status).toBe(200);
    expect(r2.json.signature).toBe(sigOf(sk, a.root));
    // a double vote for target 2 through each node: never signed
    const twin = attestationRequest(1, 2, 8);
    for (const i of [1, 2, 3]) {
      const r = await sign(i, twin.body);
      expect(r.status, `node ${i}`).toBeGreaterThanOrEqual(400);
      expect(r.json.signature).toBeUndefined();
      expect(["ERR_ATTESTATION_DOUBLE_VOTE", "ERR_THRESHOLD_NOT_ENOUGH_PARTIALS"]).toContain(r.json.code);
    }
    // every node probes its peers: node 2 comes to see both (polled: probes run every 2 s)
    await waitFor(async () => {
      const h = (await (await fetch(`${nodes[1]!.url}/healthcheck`)).json()) as {
        checks: Record<string, { ok: boolean; detail: string }>;
      };
      return h.checks["threshold.peers"]?.detail === "2 of 2 peers reachable (1 needed to sign)";
    }, 30_000);
  });

  it("one node killed: still signing; two killed: refused with a typed error, nothing signed", async () => {
    await nodes[2]!.kill();
    const b = blockRequest(100, 1);
    const r = await sign(1, b.body);
    expect(r.status).toBe(200);
    expect(r.json.signature).toBe(sigOf(sk, b.root));
    await nodes[1]!.kill();
    const a = attestationRequest(2, 3, 7);
    const refused = await sign(1, a.body);
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe("ERR_THRESHOLD_NOT_ENOUGH_PARTIALS");
    expect(refused.json.signature).toBeUndefined();
    const health = await fetch(`${nodes[0]!.url}/healthcheck`);
    expect(health.status).toBe(503);
    const metrics = await (await fetch(`${nodes[0]!.url}/metrics`)).text();
    // the refused request asked a dead peer and counted its failure (timeout or unavailable)
    expect(metricSum(metrics, "slashguard_cluster_peer_failures_total")).toBeGreaterThan(0);
    expect(metricSum(metrics, "slashguard_cluster_gather_rounds_total", { outcome: "failed" })).toBe(1);
  });
});

/**
 * Node 2 is a compromised peer: it holds node 2's pinned certificate but answers every partial request
 * with a well-formed, wrong partial. Node 1 must detect it, exclude it, report it and still sign with node 3.
 */
describe("a peer that returns corrupted partials", () => {
  const t = tempDir("sg-threshold-bad-");
  const sk = blst.SecretKey.fromKeygen(randomBytes(32));
  let c: TestCluster;
  const nodes: SignerProcess[] = [];
  let fake: grpc.Server | null = null;
  let asked = 0;

  beforeAll(async () => {
    c = await makeCluster(t.dir, 3, 2, [sk.toBytes()]);
    const cluster = readClusterFile(c.file);
    const key = readFileSync(join(t.dir, "node-2", "node.key"));
    const cert = readFileSync(join(t.dir, "node-2", "node.crt"));
    fake = new grpc.Server();
    const s = clusterServices();
    fake.addService(s.ThresholdSigner.service, {
      PartialSign: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        asked++;
        // a valid G2 point, but a signature by an unrelated key over another message
        const wrong = blst.SecretKey.fromKeygen(randomBytes(32)).sign(randomBytes(32)).toBytes();
        cb(null, { index: 2, partial_signature: Buffer.from(wrong) });
      },
      Ping: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { index: 2, keys: 1 }),
    });
    await new Promise<number>((resolve, reject) =>
      fake!.bindAsync(`127.0.0.1:${c.ports[1]}`, serverCredentials(cluster.nodes, key, cert), (e, p) =>
        e === null ? resolve(p) : reject(e),
      ),
    );
    for (const i of [1, 3]) nodes.push(await startNode(c, i, NET));
  }, 120_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    fake?.forceShutdown();
    t.cleanup();
  });

  it("detects the bad partial, drops and reports the peer, and signs with the honest node", async () => {
    const a = attestationRequest(4, 5, 7);
    const r = await postJson(`${nodes[0]!.url}/api/v1/eth2/sign/${c.groupKeys[0]}`, a.body);
    expect(r.status).toBe(200);
    expect(r.json.signature).toBe(sigOf(sk, a.root));
    expect(asked).toBeGreaterThan(0);
    const metrics = await (await fetch(`${nodes[0]!.url}/metrics`)).text();
    expect(metricSum(metrics, "slashguard_cluster_bad_partials_total", { peer: "2" })).toBe(1);
    expect(metricSum(metrics, "slashguard_cluster_bad_partials_total", { peer: "3" })).toBe(0);
    expect(metricSum(metrics, "slashguard_cluster_gather_rounds_total", { outcome: "retried" })).toBe(1);
  });
});
