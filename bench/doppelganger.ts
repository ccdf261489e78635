// Foreign-signer pass benchmark: one pass over 100,000 keys with two epochs of liveness already
// fetched (and our signing records and the fleet's view already read), on worker threads in batches of
// 1,000, beside the same rule as a plain single-thread loop over objects.
//   node --import tsx bench/doppelganger.ts [--keys 100000] [--runs 5] [--workers 2]
import { cpus } from "node:os";
import type { LivenessAnswer } from "../src/chains/ethereum/beaconClient.js";
import type { ChainTime } from "../src/chains/ethereum/chainTime.js";
import { foreignDetections, type PeerView } from "../src/detect/foreignSigner/foreignSignerDetections.js";
import { buildForeignBatch, type WatchedKey } from "../src/detect/foreignSigner/foreignSignerInput.js";
import { ForeignSignerScanner } from "../src/detect/foreignSigner/foreignSignerScanner.js";
import { OwnActivity } from "../src/detect/ownActivity.js";
import { arg, machine, table } from "./lib.js";

const N = Number(arg("keys", "100000"));
const RUNS = Number(arg("runs", "5"));
const WORKERS = Number(arg("workers", String(Math.max(1, cpus().length))));
const T: ChainTime = { genesisMs: 1_606_824_023_000, slotMs: 12_000, slotsPerEpoch: 32n };
const PREV = 400_000n;
const CUR = PREV + 1n;

// The fleet as a pass finds it: every key attests through us each epoch and is live; 0.5% missed E
// (their E-1 attestation included late makes them live in E), 0.2% are live with nothing of ours
// (twins), 1% have fleet data, one in ten of those a host signing outside its expected set.
const keys: WatchedKey[] = [];
const prevLive = new Map<number, boolean>();
const curLive = new Map<number, boolean>();
const ours = new OwnActivity(T);
const peers = new Map<string, PeerView>();
for (let i = 0; i < N; i++) {
  const pubkey = `0x${i.toString(16).padStart(96, "0")}`;
  keys.push({ validatorId: i + 1, pubkey, index: 500_000 + i });
  prevLive.set(500_000 + i, true);
  curLive.set(500_000 + i, true);
  const twin = i % 500 === 7;
  if (twin) continue;
  const byTarget = new Map<bigint, (Uint8Array | null)[]>([[PREV, [new Uint8Array(32)]]]);
  if (i % 200 !== 3) byTarget.set(CUR, [new Uint8Array(32)]);
  ours.attestations.set(i + 1, byTarget);
  if (i % 100 === 0)
    peers.set(pubkey, {
      ownerId: 1,
      expected: ["vc-1"],
      unrecognized: i % 1000 === 0 ? ["rogue"] : [],
      maintenance: false,
    });
}
const live: LivenessAnswer = {
  node: "http://bn",
  byEpoch: new Map([
    [PREV, prevLive],
    [CUR, curLive],
  ]),
};
const onchain = new Map();
const expectedFindings = keys.filter((_, i) => i % 500 === 7).length;

async function measure(fn: () => Promise<number>): Promise<{ wall: number; cpu: number; n: number }> {
  const out: { wall: number; cpu: number; n: number }[] = [];
  await fn(); // warm-up (JIT, worker start)
  for (let r = 0; r < RUNS; r++) {
    const c = process.cpuUsage();
    const w = performance.now();
    const n = await fn();
    const d = process.cpuUsage(c);
    out.push({ wall: performance.now() - w, cpu: (d.user + d.system) / 1000, n });
  }
  out.sort((a, b) => a.cpu - b.cpu);
  return out[Math.floor(out.length / 2)]!;
}

/** The same rule as a plain loop over objects: no columns, no batches, no threads. */
async function plainLoop(): Promise<number> {
  let found = 0;
  for (const k of keys) {
    const id = k.validatorId;
    const att = (e: bigint): boolean => ours.attestations.get(id)?.has(e) === true;
    const unexplained = (e: bigint, lv: boolean | undefined): boolean =>
      lv === true && !att(e) && !att(e - 1n) && !ours.proposedIn(id, e);
    const flagged = unexplained(PREV, prevLive.get(k.index)) || unexplained(CUR, curLive.get(k.index));
    if (!flagged) continue;
    const peer = peers.get(k.pubkey);
    const miss = ((att(PREV) ? 0 : 1) + (att(CUR) ? 0 : 1)) / 2;
    const confidence = Math.min(1, 0.6 * (1 + (peer?.unrecognized.length ?? 0)) + 0.4 * (peer?.maintenance ? 0 : miss));
    if (confidence > 0) found++;
  }
  return found;
}

function pass(scanner: ForeignSignerScanner): () => Promise<number> {
  return async () => {
    const { batch, contexts } = buildForeignBatch(keys, { prev: PREV, cur: CUR }, live, ours, onchain, peers);
    const r = await scanner.scan(batch);
    return foreignDetections(contexts, r, { prev: PREV, cur: CUR, node: live.node, ownerId: null }).length;
  };
}

const inline = new ForeignSignerScanner({ workers: 0, batchSize: 1000 });
const pooled = new ForeignSignerScanner({ workers: WORKERS, batchSize: 1000 });
const plain = await measure(plainLoop);
const here = await measure(pass(inline));
const threads = await measure(pass(pooled));
const { batch } = buildForeignBatch(keys, { prev: PREV, cur: CUR }, live, ours, onchain, peers);
const rulesOnly = await measure(async () => {
  const r = await pooled.scan(batch);
  return r.flags.reduce((n, f) => n + (f !== 0 ? 1 : 0), 0);
});
await pooled.close();
await inline.close();

console.log(`\nMachine: ${machine()}`);
console.log(
  `Pass: ${N.toLocaleString("en-US")} keys, liveness of 2 epochs, records and fleet data in memory; median of ${RUNS} runs after a warm-up; CPU counts every thread of the process\n`,
);
console.log(
  table(
    ["one foreign-signer pass over the keys", "wall ms", "CPU ms", "findings"],
    [
      ["plain single-thread loop over objects (same rule)", plain.wall, plain.cpu, String(plain.n)],
      ["slashguard: columns + rules on this thread, batches of 1,000", here.wall, here.cpu, String(here.n)],
      [
        `slashguard: columns + rules on ${WORKERS} worker threads, batches of 1,000`,
        threads.wall,
        threads.cpu,
        String(threads.n),
      ],
      [`  of which the rules alone on ${WORKERS} worker threads`, rulesOnly.wall, rulesOnly.cpu, String(rulesOnly.n)],
    ],
  ),
);
console.log(`\nexpected findings: ${expectedFindings} (one twin in 500 keys); target: under 1,000 ms of CPU per pass`);
