/**
 * CometBFT vote round trip with the key in a PKCS#11 token (SoftHSM2) beside the same signer with its
 * key in memory, in the same run: two `slashguard signer` processes (SQLite), one fake node each, the
 * requests alternating between them so both see the same machine load. Beside them, the limits of the
 * path: raw Ed25519 in node:crypto, raw C_Sign(CKM_EDDSA) in SoftHSM called directly, and the same
 * through the key source's worker thread, with the event loop's own busy time per signature (what a
 * blocking call would take from every other request).
 *
 *   npm run build && node --import tsx bench/hsm.ts [votes]
 */
import { createPrivateKey, sign } from "node:crypto";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openPkcs11Keys } from "../src/keys/pkcs11/pkcs11KeySource.js";
import { Pkcs11Library } from "../src/keys/pkcs11/pkcs11Token.js";
import { withTokenSession } from "../src/keys/pkcs11/tokenAdmin.js";
import { nullLogger } from "../src/util/logger.js";
import { CHAIN_ID, seedOf, testKey } from "../test/utils/comet.js";
import { startSigner, writeKeyFile, writeSignerConfig } from "../test/utils/cometSignerProcess.js";
import { FakeCometNode, fakeVoteSignBytes, randomBlock, requests, verifyEd25519 } from "../test/utils/fakeCometNode.js";
import { HAS_SOFTHSM, softHsm, USER_PIN } from "../test/utils/softhsm.js";
import { tempDir } from "../test/utils/stores.js";
import { machine, stats, table } from "./lib.js";

const VOTES = Number(process.argv[2] ?? 2000);
const WARMUP = 100;
const TOKEN = "bench";

interface Measured {
  samples: number[];
  /** Event-loop busy time per operation (ms), where measured. */
  loopMs?: number;
}

async function timeLoop(n: number, fn: (i: number) => unknown): Promise<Measured> {
  const samples: number[] = [];
  const elu = performance.eventLoopUtilization();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  const used = performance.eventLoopUtilization(elu);
  return { samples, loopMs: used.active / n };
}

if (!HAS_SOFTHSM) {
  console.error("SoftHSM2 is not installed (apt-get install softhsm2)");
  process.exit(1);
}
const dir = tempDir("sg-bench-hsm-");
try {
  const hsm = softHsm(dir.dir);
  hsm.initToken(TOKEN);
  const target = { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile };
  const tokenPub = withTokenSession(target, true, (s) => s.generate("consensus").publicKey);
  const msg = Buffer.alloc(110, 1);
  const rows: (string | number)[][] = [];
  const row = (what: string, m: Measured): void => {
    const s = stats(m.samples);
    const mean = m.samples.reduce((a, b) => a + b, 0) / m.samples.length;
    rows.push([what, s.p50, s.p99, mean, 1000 / mean, m.loopMs ?? Number.NaN]);
  };

  // 1. raw Ed25519 in memory
  const soft = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seedOf("raw")]),
    format: "der",
    type: "pkcs8",
  });
  row("raw Ed25519 sign, key in memory (node:crypto)", await timeLoop(VOTES, () => sign(null, msg, soft)));

  // 2. raw C_Sign in SoftHSM, called directly (blocks the calling thread for its whole duration)
  {
    const lib = Pkcs11Library.load(hsm.module);
    const s = lib.open(TOKEN, USER_PIN);
    const k = s.findKey({ label: "consensus" });
    row("raw C_Sign(CKM_EDDSA) in SoftHSM, direct blocking call", await timeLoop(VOTES, () => s.sign(k.handle, msg)));
    s.close();
    lib.finalize();
  }

  // 3. the same through the key source (its worker thread): what the signer pays per signature
  {
    const set = await openPkcs11Keys([{ ...target, key: { label: "consensus" } }], {}, { logger: nullLogger });
    const k = set.keys[0]!;
    row("C_Sign in SoftHSM via the key source's worker thread", await timeLoop(VOTES, () => k.sign(msg)));
    await set.close();
  }

  // 4. + 5. vote round trips, two signer processes side by side, requests alternating
  const memKeyFile = writeKeyFile(dir.dir, seedOf("bench"), testKey("bench"), "key.json");
  const nodes = [await FakeCometNode.listen(), await FakeCometNode.listen()];
  const cfgs = [
    writeSignerConfig({
      dir: dir.dir,
      name: "mem",
      chainId: CHAIN_ID,
      keyFile: memKeyFile,
      nodes: [nodes[0]!.address],
    }),
    writeSignerConfig({
      dir: dir.dir,
      name: "hsm",
      chainId: CHAIN_ID,
      keyFile: { ...target, keyLabel: "consensus" },
      nodes: [nodes[1]!.address],
    }),
  ];
  const signers = await Promise.all(
    cfgs.map((c, i) =>
      startSigner(["--config", c.main, "--cometbft-config", c.comet, "--db", `sqlite:${join(dir.dir, `s${i}.db`)}`]),
    ),
  );
  try {
    await Promise.all(nodes.map((n) => n.waitForSigner()));
    const block = randomBlock();
    const ts = { seconds: 1_700_000_000n, nanos: 0 };
    const heights = [1n, 1n];
    const vote = (i: number) => ({ type: 1 as const, height: heights[i]!++, round: 0, block, timestamp: ts });
    const once = async (i: number): Promise<number> => {
      const t = performance.now();
      const v = vote(i);
      const r = await nodes[i]!.request(requests.vote(CHAIN_ID, v));
      const took = performance.now() - t;
      const pub = i === 0 ? testKey("bench").publicKey : tokenPub;
      if (!verifyEd25519(pub, fakeVoteSignBytes(CHAIN_ID, v), r.signature))
        throw new Error(`vote not signed: ${r.error?.description}`);
      return took;
    };
    for (let w = 0; w < WARMUP; w++) for (const i of [0, 1]) await once(i);
    const samples: number[][] = [[], []];
    for (let n = 0; n < VOTES; n++) for (const i of n % 2 === 0 ? [0, 1] : [1, 0]) samples[i]!.push(await once(i));
    row("vote round trip, key in memory (key_file), SQLite", { samples: samples[0]! });
    row("vote round trip, key in SoftHSM (key: {pkcs11}), SQLite", { samples: samples[1]! });
  } finally {
    for (const s of signers) await s.stop();
    for (const n of nodes) await n.close();
  }

  console.log(`\nEd25519 in a PKCS#11 token (SoftHSM2) vs in memory, ${VOTES} sequential operations each`);
  console.log(`machine: ${machine()}\n`);
  console.log(table(["what", "p50 ms", "p99 ms", "mean ms", "per second", "event loop busy ms/op"], rows));
} finally {
  dir.cleanup();
}
