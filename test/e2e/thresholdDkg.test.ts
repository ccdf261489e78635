import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterAll, describe, expect, it } from "vitest";
import { ClusterTransport } from "../../src/cluster/clusterTransport.js";
import { DkgRun } from "../../src/cluster/dkgRun.js";
import { readClusterFile } from "../../src/keys/threshold/clusterFile.js";
import { bls12381G1 } from "../../src/keys/threshold/group.js";
import { nullLogger } from "../../src/util/logger.js";
import { runCli } from "../utils/cli.js";
import { attestationRequest, TEST_GVR_HEX } from "../utils/ethRequests.js";
import { freePort, waitFor } from "../utils/lodestar.js";
import { postJson, type SignerProcess } from "../utils/signerProcess.js";
import { tempDir } from "../utils/stores.js";
import { startNode } from "../utils/thresholdCluster.js";

const NET = ["--network", "custom", "--genesis-validators-root", TEST_GVR_HEX, "--no-doppelganger"];
const KDF = ["--kdf", "pbkdf2", "--kdf-work", "16"];

/** `cluster init`, then one folder per node holding its own copy of cluster.yaml and its TLS files. */
async function initCluster(dir: string, n: number): Promise<string[]> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const r = await runCli(["cluster", "init", "--nodes", ports.map((p) => `127.0.0.1:${p}`).join(","), "--out", dir]);
  expect(r.code, r.stderr).toBe(0);
  return Array.from({ length: n }, (_, k) => {
    const i = k + 1;
    const home = join(dir, `host-${i}`);
    mkdirSync(join(home, `node-${i}`), { recursive: true });
    copyFileSync(join(dir, "cluster.yaml"), join(home, "cluster.yaml"));
    for (const f of ["node.key", "node.crt"]) copyFileSync(join(dir, `node-${i}`, f), join(home, `node-${i}`, f));
    return home;
  });
}

function dkg(home: string, i: number, extra: string[] = []) {
  return runCli(
    [
      "cluster",
      "dkg",
      "--cluster",
      join(home, "cluster.yaml"),
      "--node",
      String(i),
      "--threshold",
      "2",
      "--out",
      home,
      "--timeout",
      "60s",
      ...KDF,
      ...extra,
    ],
    { timeoutMs: 90_000 },
  );
}

describe("cluster dkg among three processes", () => {
  const t = tempDir("sg-dkg-");
  const nodes: SignerProcess[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    t.cleanup();
  });

  it("yields the same group keys on every node, and two nodes' shares sign for them", async () => {
    const homes = await initCluster(t.dir, 3);
    const runs = await Promise.all(homes.map((h, k) => dkg(h, k + 1, ["--count", "2"])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const keysOf = (out: string): string[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("0x"))
        .map((l) => l.split(" ")[0]!);
    const groupKeys = keysOf(runs[0]!.stdout);
    expect(groupKeys).toHaveLength(2);
    for (const r of runs) expect(keysOf(r.stdout)).toEqual(groupKeys);
    const files = homes.map((h) => readClusterFile(join(h, "cluster.yaml")));
    for (const f of files) {
      expect(f.threshold).toBe(2);
      expect(f.keys.map((k) => k.groupPublicKeyHex)).toEqual(groupKeys);
      expect(f.keys.map((k) => k.sharePublicKeys.map((p) => Buffer.from(p).toString("hex")))).toEqual(
        files[0]!.keys.map((k) => k.sharePublicKeys.map((p) => Buffer.from(p).toString("hex"))),
      );
    }
    // nodes 1 and 2 (node 3 stays off): the group key signs, the signature verifies
    for (const i of [1, 2]) {
      nodes.push(
        await startNode(
          { dir: homes[i - 1]!, file: join(homes[i - 1]!, "cluster.yaml"), ports: [], groupKeys },
          i,
          NET,
        ),
      );
    }
    await waitFor(async () => {
      const h = (await (await fetch(`${nodes[0]!.url}/healthcheck`)).json()) as {
        checks: Record<string, { detail: string }>;
      };
      return h.checks["threshold.peers"]?.detail.startsWith("1 of 2") === true;
    }, 30_000);
    const a = attestationRequest(1, 2);
    for (const gk of groupKeys) {
      const r = await postJson(`${nodes[0]!.url}/api/v1/eth2/sign/${gk}`, a.body);
      expect(r.status).toBe(200);
      const ok = blst.verify(
        Buffer.from(a.root.slice(2), "hex"),
        blst.PublicKey.fromHex(gk),
        blst.Signature.fromHex(r.json.signature),
      );
      expect(ok).toBe(true);
    }
  });
});

describe("cluster dkg with a participant that deals a bad share", () => {
  const t = tempDir("sg-dkg-bad-");
  afterAll(() => t.cleanup());

  it("the node that received it aborts naming the sender, and the others stop too", async () => {
    const homes = await initCluster(t.dir, 3);
    // node 3 runs in this process with its real certificate, and sends node 1 a share off its polynomial
    const c = readClusterFile(join(homes[2]!, "cluster.yaml"));
    let run: DkgRun | null = null;
    const transport = await ClusterTransport.start(
      {
        self: 3,
        nodes: c.nodes,
        tlsKey: readFileSync(join(homes[2]!, "node-3", "node.key")),
        tlsCert: readFileSync(join(homes[2]!, "node-3", "node.crt")),
        listen: c.nodes[2]!.address,
        probeMs: 0,
      },
      {
        handlers: {
          partialSign: async () => {
            throw new Error("not signing");
          },
          keyCount: () => 0,
          dkg: async (from, m) => run!.receive(from, m),
        },
        logger: nullLogger,
        metrics: null,
      },
    );
    run = new DkgRun(
      { index: 3, threshold: 2, participants: 3, keys: 1, session: "dkg", deadline: Date.now() + 60_000 },
      transport,
      nullLogger,
      (to, d) => (to === 1 ? { ...d, shares: [bls12381G1.encodeScalar(bls12381G1.randomScalar())] } : d),
    );
    const bad = run.run().then(
      () => "finished",
      (e: { code?: string }) => e.code,
    );
    const [r1, r2] = await Promise.all([dkg(homes[0]!, 1), dkg(homes[1]!, 2)]);
    await transport.stop();
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/ERR_DKG_COMPLAINT/);
    expect(r1.stderr).toMatch(/node 3 /);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/ERR_DKG_(FAILED|COMPLAINT)/);
    expect(await bad).not.toBe("finished");
    // nothing was written: no group keys in any cluster file
    for (const h of homes) expect(readClusterFile(join(h, "cluster.yaml")).keys).toHaveLength(0);
  });
});
