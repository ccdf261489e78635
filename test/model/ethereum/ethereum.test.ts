import type { ProtectionRequest } from "../../../src/chains/ethereum/protectionTypes.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { exportInterchange } from "../../../src/protection/ethereum/interchangeExport.js";
import { importInterchange } from "../../../src/protection/ethereum/interchangeImport.js";
import { pruneEthereum } from "../../../src/protection/ethereum/pruning.js";
import { nullLogger } from "../../../src/util/logger.js";
import { GVR0, pubkey, root } from "../../utils/eth.js";
import { interchange, KEY_HEX, ROOT_HEX, Sink } from "../../utils/interchange.js";
import type { Engine } from "../../utils/stores.js";
import { type Answer, answerOf, expectAgree, expectAllFailed, pickOrder } from "../harness/compare.js";
import type { RunStats } from "../harness/config.js";
import { ModelViolation } from "../harness/errors.js";
import type { FaultyStore } from "../harness/faultyStore.js";
import { modelSuite } from "../harness/suite.js";
import { Databases, settleAll } from "../harness/worlds.js";
import { type EthCmd, ethCommands, KEYS } from "./ethCommands.js";
import { EthModel, type MAtt, type MBlock, type MReq } from "./ethModel.js";

const isRefusal = (code: string): boolean =>
  code === "ERR_BAD_REQUEST" || code.startsWith("ERR_BLOCK_") || code.startsWith("ERR_ATTESTATION_");

function toReq(r: MReq): ProtectionRequest {
  return r.kind === "block"
    ? { kind: "block", pubkey: pubkey(r.key), slot: r.slot, signingRoot: root(r.root) }
    : { kind: "attestation", pubkey: pubkey(r.key), source: r.source, target: r.target, signingRoot: root(r.root) };
}

/**
 * Two engine instances on one database (as two signer processes sharing it), and a third on instance
 * 0's store that decides at most two requests per batch (the `stream` command: overlapping batches).
 */
class EthWorld {
  private constructor(
    readonly url: string,
    readonly stores: [FaultyStore, FaultyStore],
    readonly engines: [EthereumProtection, EthereumProtection],
    readonly streamer: EthereumProtection,
  ) {}

  static async open(url: string): Promise<EthWorld> {
    const stores = await Databases.connect(url);
    const open = async (s: FaultyStore, maxBatch?: number): Promise<EthereumProtection> => {
      const p = await EthereumProtection.open(
        { genesisValidatorsRoot: GVR0, ...(maxBatch === undefined ? {} : { maxBatch }) },
        { store: s, logger: nullLogger },
      );
      await p.registerValidators(KEYS.map(pubkey));
      return p;
    };
    return new EthWorld(url, stores, [await open(stores[0]), await open(stores[1])], await open(stores[0], 2));
  }

  async close(): Promise<void> {
    for (const e of [...this.engines, this.streamer]) await e.close();
    for (const s of this.stores) await s.close();
  }
}

function interchangeText(entries: readonly { key: number; blocks: MBlock[]; atts: MAtt[] }[]): string {
  return interchange(
    entries.map((e) => ({
      pubkey: KEY_HEX(e.key),
      signed_blocks: e.blocks.map((b) => ({
        slot: String(b.slot),
        ...(b.root === null ? {} : { signing_root: ROOT_HEX(b.root) }),
      })),
      signed_attestations: e.atts.map((a) => ({
        source_epoch: String(a.source),
        target_epoch: String(a.target),
        ...(a.root === null ? {} : { signing_root: ROOT_HEX(a.root) }),
      })),
    })),
  );
}

const outcome = (v: unknown): string => String(v);
/** Blocks and attestations of a key are decided under separate locks and never affect each other. */
const lockOf = (r: unknown): string => `${(r as MReq).kind}:${(r as MReq).key}`;

async function runSequence(engine: Engine, cmds: readonly EthCmd[], stats: RunStats): Promise<void> {
  const dbs = new Databases(engine);
  let model = new EthModel();
  let world = await EthWorld.open(await dbs.fresh());
  try {
    for (const [step, cmd] of cmds.entries()) {
      stats.commands++;
      switch (cmd.c) {
        case "sign": {
          const [s] = await settleAll([world.engines[cmd.inst].checkAndRecord(toReq(cmd.req))]);
          const d = model.apply(cmd.req);
          expectAgree(step, [{ what: cmd, d, a: answerOf(s!, outcome) }], isRefusal, stats);
          break;
        }
        case "batch": {
          const settled = await settleAll(cmd.reqs.map((r) => world.engines[r.inst].checkAndRecord(toReq(r.req))));
          const answers = settled.map((s) => answerOf(s, outcome));
          const picked = pickOrder(model, cmd.reqs, answers, (m, r) => m.apply(r as MReq), isRefusal, lockOf);
          if (picked.model === null) {
            throw new ModelViolation(
              "SAFETY",
              step,
              `no order of the two instances explains the answers: ${picked.problems.join(" | ")}`,
            );
          }
          stats.requests += answers.length;
          stats.allowed += answers.filter((a) => a.ok).length;
          stats.refused += answers.filter((a) => !a.ok).length;
          model = picked.model;
          break;
        }
        case "stream": {
          const settled = await settleAll(cmd.reqs.map((r) => world.streamer.checkAndRecord(toReq(r))));
          // arrival order is the order of every key's decisions: the model applies them in that order
          expectAgree(
            step,
            cmd.reqs.map((r, i) => ({ what: r, d: model.apply(r), a: answerOf(settled[i]!, outcome) })),
            isRefusal,
            stats,
          );
          break;
        }
        case "import":
          await importInterchange(world.stores[cmd.inst], [interchangeText(cmd.entries)], GVR0);
          model.import(cmd.entries);
          break;
        case "prune":
          await pruneEthereum(world.stores[cmd.inst], { epochsToKeep: cmd.keep, slotsPerEpoch: cmd.slotsPerEpoch });
          model.prune(cmd.keep, cmd.slotsPerEpoch);
          break;
        case "migrate": {
          const sink = new Sink();
          await exportInterchange(world.stores[0], sink, GVR0);
          await world.close();
          world = await EthWorld.open(await dbs.fresh());
          await importInterchange(world.stores[0], [sink.text()], GVR0);
          model.migrate();
          break;
        }
        case "restart":
          await world.close();
          world = await EthWorld.open(world.url);
          break;
        case "fault": {
          const fault = cmd.fault === "fsync" && engine !== "sqlite" ? "ack" : cmd.fault;
          world.stores[cmd.inst].arm(fault);
          const settled = await settleAll(cmd.reqs.map((r) => world.engines[cmd.inst].checkAndRecord(toReq(r))));
          expectAllFailed(
            step,
            settled.map((s): Answer => answerOf(s, outcome)),
            stats,
          );
          // a failed COMMIT wrote nothing; a lost answer or a failed fsync comes after the commit
          if (fault !== "commit") for (const r of cmd.reqs) model.apply(r);
          // after a failed fsync the store trusts its disk no more: the operator restarts
          if (fault === "fsync") {
            await world.close();
            world = await EthWorld.open(world.url);
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

modelSuite("ethereum", ethCommands, runSequence, 15);
