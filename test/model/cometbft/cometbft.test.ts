import fc from "fast-check";
import type { SignState } from "../../../src/chains/cometbft/hrsRule.js";
import { encodeCanonical } from "../../../src/chains/cometbft/signBytes.js";
import type { Timestamp } from "../../../src/chains/cometbft/types.js";
import { CometBftProtection } from "../../../src/protection/cometbft/cometBftProtection.js";
import type { CometSignOutcome, CometSignRequest } from "../../../src/protection/cometbft/types.js";
import { ed25519Verify } from "../../../src/util/curve25519.js";
import { nullLogger } from "../../../src/util/logger.js";
import { blockId, testKey } from "../../utils/comet.js";
import type { Engine } from "../../utils/stores.js";
import { answerOf, expectAgree, expectAllFailed, pickOrder } from "../harness/compare.js";
import type { RunStats } from "../harness/config.js";
import { codeOf, ModelViolation, show } from "../harness/errors.js";
import type { Fault, FaultyStore } from "../harness/faultyStore.js";
import { modelSuite } from "../harness/suite.js";
import { Databases, type Settled, settle, settleAll } from "../harness/worlds.js";
import { CometModel, type MDecision, type MEntry, type MMsg, STEP_PROPOSE } from "./cometModel.js";

const CHAINS = ["model-chain-a", "model-chain-b"];
const KEYS = [testKey("model-0"), testKey("model-1")];
const TS: Timestamp[] = [
  { seconds: 1_700_000_000n, nanos: 1 },
  { seconds: 1_700_000_001n, nanos: 500 },
];

type Inst = 0 | 1;
type ImportKind = "signed" | "bytes-only" | "position-only" | "bad-signature";
type Cmd =
  | { c: "sign"; inst: Inst; msg: MMsg }
  | { c: "batch"; reqs: { inst: Inst; req: MMsg }[] }
  | { c: "import"; inst: Inst; kind: ImportKind; msg: MMsg }
  | { c: "migrate" }
  | { c: "restart" }
  | { c: "fault"; inst: Inst; fault: Fault; msgs: MMsg[] };

function bytesOf(m: MMsg): Uint8Array {
  const proposal = m.step === STEP_PROPOSE;
  return encodeCanonical({
    kind: proposal ? "proposal" : "vote",
    type: proposal ? 32 : m.step === 2 ? 1 : 2,
    height: m.height,
    round: BigInt(m.round),
    polRound: proposal ? -1n : 0n,
    blockId: m.block === "nil" ? null : blockId(m.block),
    timestamp: TS[m.ts]!,
    chainId: CHAINS[m.chain]!,
  });
}

function toReq(m: MMsg): CometSignRequest {
  return {
    chainId: CHAINS[m.chain]!,
    pubkey: KEYS[m.key]!.publicKey,
    kind: m.step === STEP_PROPOSE ? "proposal" : "vote",
    hrs: { height: m.height, round: m.round, step: m.step },
    signBytes: bytesOf(m),
  };
}

const inst = fc.constantFrom<Inst>(0, 1);
const msg: fc.Arbitrary<MMsg> = fc.record({
  chain: fc.integer({ min: 0, max: 1 }),
  key: fc.integer({ min: 0, max: 1 }),
  height: fc.oneof(
    { weight: 20, arbitrary: fc.bigInt(1n, 5n) },
    { weight: 1, arbitrary: fc.constant((1n << 63n) - 1n) },
  ),
  round: fc.integer({ min: 0, max: 2 }),
  step: fc.integer({ min: 1, max: 3 }),
  block: fc.constantFrom<MMsg["block"]>("nil", "A", "B"),
  ts: fc.integer({ min: 0, max: 1 }),
});

function commands(max: number): fc.Arbitrary<Cmd[]> {
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ c: fc.constant("sign" as const), inst, msg }) },
    {
      weight: 4,
      arbitrary: fc.record({
        c: fc.constant("batch" as const),
        reqs: fc.array(fc.record({ inst, req: msg }), { minLength: 2, maxLength: 8 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant("import" as const),
        inst,
        kind: fc.constantFrom<ImportKind>("signed", "bytes-only", "position-only", "bad-signature"),
        msg,
      }),
    },
    { weight: 1, arbitrary: fc.constant({ c: "migrate" as const }) },
    { weight: 1, arbitrary: fc.constant({ c: "restart" as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant("fault" as const),
        inst,
        fault: fc.constantFrom<Fault>("commit", "ack", "fsync"),
        // one key: on PostgreSQL each key has its own group-commit queue, so one transaction holds them all
        msgs: fc
          .array(msg, { minLength: 1, maxLength: 4 })
          .map((ms) => ms.map((m) => ({ ...m, chain: ms[0]!.chain, key: ms[0]!.key }))),
      }),
    },
  );
  return fc.array(cmd, { minLength: 1, maxLength: max, size: "max" });
}

class CometWorld {
  private constructor(
    readonly url: string,
    readonly stores: [FaultyStore, FaultyStore],
    readonly engines: [CometBftProtection, CometBftProtection],
  ) {}

  static async open(url: string): Promise<CometWorld> {
    const stores = await Databases.connect(url);
    const open = async (s: FaultyStore): Promise<CometBftProtection> => {
      const p = new CometBftProtection({}, { store: s, logger: nullLogger });
      for (const chainId of CHAINS) for (const k of KEYS) await p.registerKey(chainId, k);
      return p;
    };
    return new CometWorld(url, stores, [await open(stores[0]), await open(stores[1])]);
  }

  async close(): Promise<void> {
    for (const e of this.engines) await e.close();
    for (const s of this.stores) await s.close();
  }
}

const isRefusal = (code: string): boolean => code.startsWith("ERR_COMETBFT_");
const outcome = (v: unknown): string => {
  const o = v as CometSignOutcome;
  return o.repeat ? (o.timestamp === null ? "repeat" : "repeat-ts") : "new";
};

/**
 * Every released signature is over the bytes the store holds at that position (after the decision):
 * a repeat answers with the stored signature, a timestamp-only repeat with the stored timestamp too.
 */
function checkReleased(step: number, model: CometModel, m: MMsg, s: Settled<CometSignOutcome>): void {
  if (!s.ok) return;
  const last = model.last(m.chain, m.key);
  const stored = last?.msg ?? null;
  const ok =
    stored !== null &&
    last !== null &&
    last.height === m.height &&
    last.round === m.round &&
    last.step === m.step &&
    ed25519Verify(KEYS[m.key]!.publicKey, bytesOf(stored), s.value.signature) &&
    (s.value.timestamp === null
      ? stored.ts === m.ts
      : s.value.timestamp.seconds === TS[stored.ts]!.seconds && s.value.timestamp.nanos === TS[stored.ts]!.nanos);
  if (!ok) throw new ModelViolation("SAFETY", step, `released signature is not the stored message's: ${show(m)}`);
}

function importState(kind: ImportKind, m: MMsg): { state: SignState; entry: MEntry } {
  const hrs = { height: m.height, round: m.round, step: m.step };
  const bytes = bytesOf(m);
  const key = KEYS[m.key]!;
  if (kind === "signed")
    return { state: { hrs, signBytes: bytes, signature: key.sign(bytes) }, entry: { ...hrs, msg: m } };
  if (kind === "bad-signature") {
    const bad = key.sign(bytes);
    bad[0]! ^= 1;
    return { state: { hrs, signBytes: bytes, signature: bad }, entry: { ...hrs, msg: m } };
  }
  if (kind === "bytes-only") return { state: { hrs, signBytes: bytes, signature: null }, entry: { ...hrs, msg: null } };
  return { state: { hrs, signBytes: null, signature: null }, entry: { ...hrs, msg: null } };
}

async function runSequence(engine: Engine, cmds: readonly Cmd[], stats: RunStats): Promise<void> {
  const dbs = new Databases(engine);
  let model = new CometModel();
  let world = await CometWorld.open(await dbs.fresh());
  const apply = (m: CometModel, r: unknown): MDecision => m.apply(r as MMsg);
  try {
    for (const [step, cmd] of cmds.entries()) {
      stats.commands++;
      switch (cmd.c) {
        case "sign": {
          const s = await settle(world.engines[cmd.inst].sign(toReq(cmd.msg)));
          const d = model.apply(cmd.msg);
          expectAgree(step, [{ what: cmd, d, a: answerOf(s, outcome) }], isRefusal, stats);
          checkReleased(step, model, cmd.msg, s);
          break;
        }
        case "batch": {
          const settled = await settleAll(cmd.reqs.map((r) => world.engines[r.inst].sign(toReq(r.req))));
          const answers = settled.map((s) => answerOf(s, outcome));
          const picked = pickOrder(
            model,
            cmd.reqs,
            answers,
            apply,
            isRefusal,
            (r) => `${(r as MMsg).chain}/${(r as MMsg).key}`,
          );
          if (picked.model === null) {
            throw new ModelViolation(
              "SAFETY",
              step,
              `no order of the two instances explains: ${picked.problems.join(" | ")}`,
            );
          }
          stats.requests += answers.length;
          stats.allowed += answers.filter((a) => a.ok).length;
          stats.refused += answers.filter((a) => !a.ok).length;
          model = picked.model;
          // with at most one position per key a batch can leave, the final state decides each release
          cmd.reqs.forEach((r, i) => {
            const s = settled[i]!;
            const last = model.last(r.req.chain, r.req.key);
            if (
              s.ok &&
              last !== null &&
              last.height === r.req.height &&
              last.round === r.req.round &&
              last.step === r.req.step
            )
              checkReleased(step, model, r.req, s);
          });
          break;
        }
        case "import": {
          const { state, entry } = importState(cmd.kind, cmd.msg);
          const s = await settle(
            world.engines[cmd.inst].importState(CHAINS[cmd.msg.chain]!, KEYS[cmd.msg.key]!.publicKey, state),
          );
          if (cmd.kind === "bad-signature") {
            if (s.ok || codeOf(s.error) !== "ERR_COMETBFT_STATE_SIGNATURE_INVALID")
              throw new ModelViolation("SAFETY", step, `an import with a bad signature was not refused: ${show(cmd)}`);
            break;
          }
          if (cmd.kind === "bytes-only" && model.clone().import(cmd.msg.chain, cmd.msg.key, entry)) {
            // sign bytes without their signature cannot answer a repeat: the store refuses such a state
            if (s.ok || codeOf(s.error) !== "ERR_STORE_CONSTRAINT")
              throw new ModelViolation("UNEXPECTED", step, `a state without its signature was not refused: ${show(s)}`);
            break;
          }
          if (!s.ok) throw new ModelViolation("UNEXPECTED", step, `import failed: ${codeOf(s.error)}`);
          const applied = model.import(cmd.msg.chain, cmd.msg.key, entry);
          if (s.value.applied !== applied)
            throw new ModelViolation(
              applied ? "LIVENESS" : "SAFETY",
              step,
              `import applied=${s.value.applied}, model ${applied}`,
            );
          break;
        }
        case "migrate": {
          // what an operator moves to a fresh database: each key's last sign state
          const states: { chain: number; key: number; state: SignState }[] = [];
          for (const [chain, chainId] of CHAINS.entries())
            for (const [key, k] of KEYS.entries()) {
              const st = await world.engines[0].state(chainId, k.publicKey);
              if (st !== null) states.push({ chain, key, state: st });
            }
          await world.close();
          world = await CometWorld.open(await dbs.fresh());
          for (const { chain, key, state } of states)
            await world.engines[0].importState(CHAINS[chain]!, KEYS[key]!.publicKey, state);
          break;
        }
        case "restart":
          await world.close();
          world = await CometWorld.open(world.url);
          break;
        case "fault": {
          const fault = cmd.fault === "fsync" && engine !== "sqlite" ? "ack" : cmd.fault;
          world.stores[cmd.inst].arm(fault);
          const settled = await settleAll(cmd.msgs.map((m) => world.engines[cmd.inst].sign(toReq(m))));
          expectAllFailed(
            step,
            settled.map((s) => answerOf(s, outcome)),
            stats,
          );
          if (fault !== "commit") for (const m of cmd.msgs) model.apply(m);
          if (fault === "fsync") {
            await world.close();
            world = await CometWorld.open(world.url);
          }
          break;
        }
      }
    }
  } finally {
    await world.close().catch(() => undefined);
    await dbs.dispose();
  }
}

modelSuite("cometbft", commands, runSequence, 15);
