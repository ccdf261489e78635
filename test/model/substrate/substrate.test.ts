import fc from "fast-check";
import type { SubstrateRecord } from "../../../src/chains/substrate/types.js";
import {
  exportSubstrateInterchange,
  importSubstrateInterchange,
} from "../../../src/protection/substrate/interchange.js";
import { pruneSubstrate } from "../../../src/protection/substrate/pruning.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../../src/util/logger.js";
import { Sink } from "../../utils/interchange.js";
import type { Engine } from "../../utils/stores.js";
import { answerOf, expectAgree, expectAllFailed, pickOrder } from "../harness/compare.js";
import type { RunStats } from "../harness/config.js";
import { codeOf, ModelViolation, show } from "../harness/errors.js";
import type { Fault, FaultyStore } from "../harness/faultyStore.js";
import { modelSuite } from "../harness/suite.js";
import { Databases, settle, settleAll } from "../harness/worlds.js";
import { type MDecision, type MLows, type MRec, type MSubReq, SubstrateModel } from "./substrateModel.js";

type Inst = 0 | 1;
type Entry = { keyType: string; pub: number; low: MLows; records: MRec[] };
type Cmd =
  | { c: "sign"; inst: Inst; req: MSubReq }
  | { c: "batch"; reqs: { inst: Inst; req: MSubReq }[] }
  | { c: "import"; inst: Inst; entries: Entry[] }
  | { c: "prune"; inst: Inst; keep: bigint; slotsPerSession: bigint }
  | { c: "migrate" }
  | { c: "restart" }
  | { c: "fault"; inst: Inst; fault: Fault; reqs: MSubReq[] };

const KEY_TYPES = ["babe", "gran", "audi"];
const U64_MAX = (1n << 64n) - 1n;
const pubkey = (n: number): Uint8Array => {
  const p = new Uint8Array(32);
  p[0] = 0xd0;
  p[31] = n;
  return p;
};
const h32 = (n: number): Uint8Array => {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(28, n);
  return h;
};
const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;
const TARGET_NUMBER = (t: number): bigint => BigInt(100 + t);

function toRecord(r: MRec): SubstrateRecord {
  switch (r.kind) {
    case "grandpa":
      return {
        kind: "grandpa",
        setId: r.setId,
        round: r.round,
        stage: r.stage,
        targetHash: h32(r.target!),
        targetNumber: TARGET_NUMBER(r.target!),
      };
    case "babe":
      return { kind: "babe", slot: r.slot, preHash: h32(r.pre!), authorityIndex: 0 };
    case "beefy":
      return { kind: "beefy", setId: r.setId, blockNumber: r.block, commitmentHash: h32(r.commitment!) };
    case "para":
      return { kind: "para", candidateHash: h32(1000 + r.candidate), statement: r.statement, session: r.session };
    default:
      throw new Error("not a request record");
  }
}

const str = (v: bigint | null): string | null => (v === null ? null : String(v));
const hashOrNull = (n: number | null): string | null => (n === null ? null : hex(h32(n)));

function interchangeText(entries: readonly Entry[]): string {
  const keys = entries.map((e) => ({
    key_type: e.keyType,
    public_key: hex(pubkey(e.pub)),
    low: { set_id: str(e.low.setId), slot: str(e.low.slot), session: str(e.low.session) },
    grandpa_votes: e.records.flatMap((r) =>
      r.kind === "grandpa" && r.stage !== 2
        ? [
            {
              set_id: String(r.setId),
              round: String(r.round),
              stage: r.stage === 0 ? "prevote" : "precommit",
              target_hash: hashOrNull(r.target),
              target_number: r.target === null ? null : String(TARGET_NUMBER(r.target)),
            },
          ]
        : [],
    ),
    grandpa_proposals: e.records.flatMap((r) =>
      r.kind === "grandpa" && r.stage === 2
        ? [
            {
              set_id: String(r.setId),
              round: String(r.round),
              target_hash: hex(h32(r.target!)),
              target_number: String(TARGET_NUMBER(r.target!)),
            },
          ]
        : [],
    ),
    babe_blocks: e.records.flatMap((r) =>
      r.kind === "babe" ? [{ slot: String(r.slot), pre_hash: hashOrNull(r.pre), authority_index: 0 }] : [],
    ),
    para_votes: e.records.flatMap((r) =>
      r.kind === "para"
        ? [
            {
              candidate_hash: hex(h32(1000 + r.candidate)),
              side: r.statement === "invalid" ? "invalid" : "valid",
              statements: [r.statement],
              session: str(r.session),
            },
          ]
        : r.kind === "para-both"
          ? [{ candidate_hash: hex(h32(1000 + r.candidate)), side: "both", statements: [], session: str(r.session) }]
          : [],
    ),
    beefy_votes: e.records.flatMap((r) =>
      r.kind === "beefy"
        ? [{ set_id: String(r.setId), block_number: String(r.block), commitment_hash: hashOrNull(r.commitment) }]
        : [],
    ),
  }));
  return JSON.stringify({
    metadata: { format: "slashguard.substrate.interchange", version: "1", exported_at: "2026-01-01T00:00:00Z" },
    keys,
  });
}

const inst = fc.constantFrom<Inst>(0, 1);
const small = fc.oneof(
  { weight: 30, arbitrary: fc.bigInt(0n, 8n) },
  { weight: 1, arbitrary: fc.constantFrom(U64_MAX, U64_MAX + 1n) },
);
const choice = fc.integer({ min: 1, max: 3 });
/** A candidate belongs to one session (its statements all name it), or the node did not say which (null). */
const sessionOf = (candidate: number, known: boolean): bigint | null => (known ? BigInt(candidate - 1) * 2n : null);
const rec = (imported: boolean): fc.Arbitrary<MRec> => {
  const maybe = imported ? fc.option(choice, { freq: 5 }) : choice;
  const s = imported ? fc.bigInt(0n, 8n) : small;
  return fc.oneof(
    fc
      .record({
        kind: fc.constant("grandpa" as const),
        setId: fc.bigInt(0n, 3n),
        round: s,
        stage: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
        target: maybe,
      })
      .map((r) => (r.stage === 2 && r.target === null ? { ...r, target: 1 } : r)),
    fc.record({ kind: fc.constant("babe" as const), slot: s, pre: maybe }),
    fc.record({ kind: fc.constant("beefy" as const), setId: fc.bigInt(0n, 3n), block: s, commitment: maybe }),
    fc
      .record({
        kind: fc.constant("para" as const),
        candidate: fc.integer({ min: 1, max: 4 }),
        statement: fc.constantFrom<"seconded" | "valid" | "invalid">("seconded", "valid", "invalid"),
        known: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
      })
      .map(({ known, ...r }) => ({ ...r, session: sessionOf(r.candidate, known) })),
    ...(imported
      ? [
          fc
            .record({
              kind: fc.constant("para-both" as const),
              candidate: fc.integer({ min: 1, max: 4 }),
              known: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
            })
            .map(({ known, ...r }) => ({ ...r, session: sessionOf(r.candidate, known) })),
        ]
      : []),
  );
};
const pub = fc.integer({ min: 1, max: 3 });
const keyType = fc.constantFrom(...KEY_TYPES);
/** Mostly a key's usual type, now and then another (the one-key-type rule). */
const req: fc.Arbitrary<MSubReq> = fc
  .tuple(pub, fc.option(keyType, { freq: 6, nil: null }), rec(false))
  .map(([p, t, r]) => ({ pub: p, keyType: t ?? KEY_TYPES[p - 1]!, rec: r }));
const lowPart = fc.option(fc.bigInt(0n, 6n), { freq: 2 });
const entry: fc.Arbitrary<Entry> = fc
  .tuple(
    pub,
    fc.option(keyType, { freq: 8, nil: null }),
    fc.record({ setId: lowPart, slot: lowPart, session: lowPart }),
  )
  .chain(([p, t, low]) =>
    fc.array(rec(true), { maxLength: 4 }).map((records) => ({ pub: p, keyType: t ?? KEY_TYPES[p - 1]!, low, records })),
  );

function commands(max: number): fc.Arbitrary<Cmd[]> {
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ c: fc.constant("sign" as const), inst, req }) },
    {
      weight: 4,
      arbitrary: fc.record({
        c: fc.constant("batch" as const),
        reqs: fc.array(fc.record({ inst, req }), { minLength: 2, maxLength: 8 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant("import" as const),
        inst,
        entries: fc.array(entry, { minLength: 1, maxLength: 2 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        c: fc.constant("prune" as const),
        inst,
        keep: fc.bigInt(1n, 4n),
        slotsPerSession: fc.bigInt(1n, 3n),
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
        reqs: fc
          .array(req, { minLength: 1, maxLength: 4 })
          .map((rs) => rs.map((r) => ({ ...r, pub: rs[0]!.pub, keyType: rs[0]!.keyType }))),
      }),
    },
  );
  return fc.array(cmd, { minLength: 1, maxLength: max, size: "max" });
}

class SubstrateWorld {
  private constructor(
    readonly url: string,
    readonly stores: [FaultyStore, FaultyStore],
    readonly engines: [SubstrateProtection, SubstrateProtection],
  ) {}

  static async open(url: string): Promise<SubstrateWorld> {
    const stores = await Databases.connect(url);
    const open = (s: FaultyStore): SubstrateProtection => new SubstrateProtection({}, { store: s, logger: nullLogger });
    return new SubstrateWorld(url, stores, [open(stores[0]), open(stores[1])]);
  }

  check(i: Inst, r: MSubReq): Promise<unknown> {
    return this.engines[i].checkAndRecord({ keyType: r.keyType, publicKey: pubkey(r.pub), records: [toRecord(r.rec)] });
  }

  async close(): Promise<void> {
    for (const e of this.engines) await e.close();
    for (const s of this.stores) await s.close();
  }
}

const isRefusal = (code: string): boolean => code.startsWith("ERR_SUBSTRATE_") || code === "ERR_BAD_REQUEST";
const outcome = (v: unknown): string => String(v);
/** Values past u64 never reach the rules: the batch guard refuses them alone (defect 9). */
function applyReq(m: SubstrateModel, r: MSubReq): MDecision {
  const x = r.rec;
  const nums =
    x.kind === "grandpa"
      ? [x.setId, x.round]
      : x.kind === "babe"
        ? [x.slot]
        : x.kind === "beefy"
          ? [x.setId, x.block]
          : [];
  if (nums.some((n) => n > U64_MAX)) {
    const conflict = m.bound.get(r.pub);
    m.bind(r.pub, r.keyType);
    return conflict !== undefined && conflict !== r.keyType
      ? { refuse: ["ERR_SUBSTRATE_KEY_TYPE_CONFLICT"] }
      : { refuse: ["ERR_BAD_REQUEST"] };
  }
  return m.apply(r);
}

async function runSequence(engine: Engine, cmds: readonly Cmd[], stats: RunStats): Promise<void> {
  const dbs = new Databases(engine);
  let model = new SubstrateModel();
  let world = await SubstrateWorld.open(await dbs.fresh());
  try {
    for (const [step, cmd] of cmds.entries()) {
      stats.commands++;
      switch (cmd.c) {
        case "sign": {
          const s = await settle(world.check(cmd.inst, cmd.req));
          const d = applyReq(model, cmd.req);
          expectAgree(step, [{ what: cmd, d, a: answerOf(s, outcome) }], isRefusal, stats);
          break;
        }
        case "batch": {
          // a key not filed yet is filed by whichever instance comes first: give it one type in the batch
          const typeOf = new Map<number, string>();
          const reqs = cmd.reqs.map((r) => {
            const t = model.bound.get(r.req.pub) ?? typeOf.get(r.req.pub) ?? r.req.keyType;
            if (!model.bound.has(r.req.pub)) typeOf.set(r.req.pub, t);
            return { inst: r.inst, req: { ...r.req, keyType: model.bound.has(r.req.pub) ? r.req.keyType : t } };
          });
          const settled = await settleAll(reqs.map((r) => world.check(r.inst, r.req)));
          const answers = settled.map((s) => answerOf(s, outcome));
          const picked = pickOrder(
            model,
            reqs,
            answers,
            (m, r) => applyReq(m, r as MSubReq),
            isRefusal,
            (r) => String((r as MSubReq).pub),
          );
          if (picked.model === null)
            throw new ModelViolation(
              "SAFETY",
              step,
              `no order of the two instances explains: ${picked.problems.join(" | ")}`,
            );
          stats.requests += answers.length;
          stats.allowed += answers.filter((a) => a.ok).length;
          stats.refused += answers.filter((a) => !a.ok).length;
          model = picked.model;
          break;
        }
        case "import": {
          const s = await settle(importSubstrateInterchange(world.stores[cmd.inst], interchangeText(cmd.entries)));
          const ok = model.import(cmd.entries);
          if (ok && !s.ok) throw new ModelViolation("UNEXPECTED", step, `import failed: ${codeOf(s.error)}`);
          if (!ok && (s.ok || codeOf(s.error) !== "ERR_SUBSTRATE_KEY_TYPE_CONFLICT"))
            throw new ModelViolation(
              "SAFETY",
              step,
              `an import filing a key under a second type was not refused: ${show(s)}`,
            );
          break;
        }
        case "prune":
          await pruneSubstrate(world.stores[cmd.inst], {
            sessionsToKeep: cmd.keep,
            slotsPerSession: cmd.slotsPerSession,
          });
          model.prune(cmd.keep, cmd.slotsPerSession);
          break;
        case "migrate": {
          const sink = new Sink();
          await exportSubstrateInterchange(world.stores[0], sink);
          await world.close();
          world = await SubstrateWorld.open(await dbs.fresh());
          await importSubstrateInterchange(world.stores[0], sink.text());
          break;
        }
        case "restart":
          await world.close();
          world = await SubstrateWorld.open(world.url);
          break;
        case "fault": {
          const fault = cmd.fault === "fsync" && engine !== "sqlite" ? "ack" : cmd.fault;
          // file the key first, so the failing transaction is the decision's
          const keyType = model.bound.get(cmd.reqs[0]!.pub) ?? cmd.reqs[0]!.keyType;
          const reqs = cmd.reqs.map((r) => ({ ...r, keyType }));
          await world.engines[cmd.inst].bindKey({ keyType, publicKey: pubkey(reqs[0]!.pub) });
          model.bind(reqs[0]!.pub, keyType);
          world.stores[cmd.inst].arm(fault);
          const settled = await settleAll(reqs.map((r) => world.check(cmd.inst, r)));
          world.stores[cmd.inst].disarm();
          expectAllFailed(
            step,
            settled.map((s) => answerOf(s, outcome)),
            stats,
          );
          if (fault !== "commit") for (const r of reqs) applyReq(model, r);
          if (fault === "fsync") {
            await world.close();
            world = await SubstrateWorld.open(world.url);
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

modelSuite("substrate", commands, runSequence, 15);
