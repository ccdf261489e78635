import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { LoopbackServer, type Recorded, sendJson } from "./httpServer.js";

/** What the fake chain knows about one validator. */
export interface FakeValidator {
  index: number;
  pubkey: string;
  status?: string;
}

/** AttestationData in the beacon API's JSON form. */
export interface AttestationDataJson {
  slot: string;
  index: string;
  beacon_block_root: string;
  source: { epoch: string; root: string };
  target: { epoch: string; root: string };
}

interface FakeBlock {
  root: string;
  proposerIndex: number;
  attestations: { aggregation_bits: string; data: AttestationDataJson; signature: string }[];
}

export interface FakeBeaconOptions {
  genesisTimeSec: number;
  secondsPerSlot?: number;
  slotsPerEpoch?: number;
  genesisValidatorsRoot: string;
  /** Wall clock the node lives by (a fake clock in tests). */
  now: () => number;
}

/**
 * A beacon node on loopback with a scripted chain, speaking the beacon API's wire format: genesis,
 * spec, syncing, fork, validators (POST, or only the older GET with `oldForms`), liveness (POST per
 * epoch, or the older GET), committees, headers, block attestations (v2, v1 with `oldForms`, block
 * body). Liveness answers only for the previous, current and next epoch (400 otherwise), as
 * Lighthouse and Lodestar do; the test decides who was live in which epoch.
 */
export class FakeBeaconNode {
  readonly server: LoopbackServer;
  url = "";
  readonly secondsPerSlot: number;
  readonly slotsPerEpoch: number;
  validators: FakeValidator[] = [];
  /** epoch -> live validator indices. */
  readonly live = new Map<bigint, Set<number>>();
  readonly blocks = new Map<bigint, FakeBlock>();
  /** Give every public key asked about the next free index (a chain where every key has a deposit). */
  autoIndex = false;
  /** Answer 503 to everything. */
  down = false;
  syncing = false;
  /** Speak only the forms of Lodestar 1.5.1 (GET liveness and validators, v1 attestations). */
  oldForms = false;
  fork = { previous_version: "0x00000001", current_version: "0x00000001", epoch: "0" };
  /** Clock time of every liveness question (either form). */
  readonly livenessAsked: number[] = [];

  constructor(readonly opts: FakeBeaconOptions) {
    this.secondsPerSlot = opts.secondsPerSlot ?? 12;
    this.slotsPerEpoch = opts.slotsPerEpoch ?? 8;
    this.server = new LoopbackServer((req, res) => {
      this.handle(req, res);
    });
  }

  async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  get genesisMs(): number {
    return this.opts.genesisTimeSec * 1000;
  }

  /** Unix ms at `fraction` into `slot`. */
  timeOf(slot: bigint | number, fraction = 0): number {
    return this.genesisMs + (Number(slot) + fraction) * this.secondsPerSlot * 1000;
  }

  /** Unix ms at three quarters of the last slot of `epoch` (when clients check liveness). */
  epochCheckTime(epoch: bigint | number): number {
    return this.timeOf((BigInt(epoch) + 1n) * BigInt(this.slotsPerEpoch) - 1n, 0.75);
  }

  currentEpoch(): bigint {
    const slot = Math.floor((this.opts.now() - this.genesisMs) / (this.secondsPerSlot * 1000));
    return BigInt(Math.floor(slot / this.slotsPerEpoch));
  }

  setLive(epoch: bigint | number, ...indices: number[]): void {
    const s = this.live.get(BigInt(epoch)) ?? new Set<number>();
    for (const i of indices) s.add(i);
    this.live.set(BigInt(epoch), s);
  }

  /** The committee of `slot` (one per slot: every validator, by index). */
  committee(_slot: bigint): number[] {
    return this.validators.map((v) => v.index).sort((a, b) => a - b);
  }

  /**
   * A block at `slot` including an aggregate of `attesters` for `data` (an attestation of an earlier
   * slot included late is how a client counts a validator live in the block's epoch, as Lodestar does).
   */
  addBlock(
    slot: bigint,
    proposerIndex: number,
    included: { data: AttestationDataJson; attesters: number[] }[] = [],
  ): string {
    const root = `0x${randomBytes(32).toString("hex")}`;
    const attestations = included.map((a) => {
      const members = this.committee(BigInt(a.data.slot));
      return {
        aggregation_bits: bitlist(
          members.length,
          a.attesters.map((i) => members.indexOf(i)),
        ),
        data: a.data,
        signature: `0x${"00".repeat(96)}`,
      };
    });
    this.blocks.set(slot, { root, proposerIndex, attestations });
    const epoch = slot / BigInt(this.slotsPerEpoch);
    // the genesis block has no proposer: nobody was seen proposing it
    this.setLive(epoch, ...(slot === 0n ? [] : [proposerIndex]), ...included.flatMap((a) => a.attesters));
    return root;
  }

  private handle(req: Recorded, res: ServerResponse): true {
    if (this.down) return send(res, 503, { code: 503, message: "node is down" });
    const [path = "", query = ""] = req.url.split("?");
    const q = new URLSearchParams(query);
    const notFound = (): true => send(res, 404, { message: `Route ${req.method}:${path} not found`, statusCode: 404 });
    if (req.method === "GET" && path === "/eth/v1/beacon/genesis")
      return send(res, 200, {
        data: {
          genesis_time: String(this.opts.genesisTimeSec),
          genesis_validators_root: this.opts.genesisValidatorsRoot,
          genesis_fork_version: "0x00000001",
        },
      });
    if (req.method === "GET" && path === "/eth/v1/config/spec")
      return send(res, 200, {
        data: {
          SECONDS_PER_SLOT: String(this.secondsPerSlot),
          SLOTS_PER_EPOCH: String(this.slotsPerEpoch),
          PRESET_BASE: "minimal",
        },
      });
    if (req.method === "GET" && path === "/eth/v1/node/syncing")
      return send(res, 200, {
        data: {
          is_syncing: this.syncing,
          sync_distance: this.syncing ? "100" : "0",
          head_slot: "1",
          is_optimistic: false,
        },
      });
    if (req.method === "GET" && path === "/eth/v1/beacon/states/head/fork") return send(res, 200, { data: this.fork });
    if (path === "/eth/v1/beacon/states/head/validators") {
      if (req.method === "POST" && !this.oldForms) {
        const ids = (req.json as { ids?: string[] } | null)?.ids ?? [];
        return send(res, 200, { data: this.validatorsFor(ids) });
      }
      if (req.method === "GET") return send(res, 200, { data: this.validatorsFor(q.getAll("id")) });
      return notFound();
    }
    if (path.startsWith("/eth/v1/validator/liveness")) this.livenessAsked.push(this.opts.now());
    const liveness = /^\/eth\/v1\/validator\/liveness\/(\d+)$/.exec(path);
    if (liveness !== null && req.method === "POST" && !this.oldForms) {
      const epoch = BigInt(liveness[1]!);
      if (!this.epochAnswerable(epoch)) return send(res, 400, { code: 400, message: `epoch ${epoch} out of range` });
      const indices = ((req.json as string[] | null) ?? []).map(Number);
      return send(res, 200, {
        data: indices.map((i) => ({ index: String(i), is_live: this.live.get(epoch)?.has(i) === true })),
      });
    }
    if (path === "/eth/v1/validator/liveness" && req.method === "GET") {
      const epoch = BigInt(q.get("epoch") ?? "0");
      if (!this.epochAnswerable(epoch)) return send(res, 500, { code: 500, message: "epoch out of range" });
      return send(res, 200, {
        data: q.getAll("indices").map((i) => ({
          index: Number(i),
          epoch: Number(epoch),
          is_live: this.live.get(epoch)?.has(Number(i)) === true,
        })),
      });
    }
    if (req.method === "GET" && path === "/eth/v1/beacon/states/head/committees") {
      const epoch = BigInt(q.get("epoch") ?? "0");
      const first = epoch * BigInt(this.slotsPerEpoch);
      const data = Array.from({ length: this.slotsPerEpoch }, (_, k) => ({
        index: "0",
        slot: String(first + BigInt(k)),
        validators: this.committee(first + BigInt(k)).map(String),
      }));
      return send(res, 200, { data });
    }
    const header = /^\/eth\/v1\/beacon\/headers\/(\d+)$/.exec(path);
    if (header !== null && req.method === "GET") {
      const slot = BigInt(header[1]!);
      const b = this.blocks.get(slot);
      if (b === undefined) return send(res, 404, { code: 404, message: "Block not found" });
      return send(res, 200, {
        data: {
          root: b.root,
          canonical: true,
          header: {
            message: {
              slot: String(slot),
              proposer_index: String(b.proposerIndex),
              parent_root: `0x${"00".repeat(32)}`,
              state_root: `0x${"00".repeat(32)}`,
              body_root: `0x${"00".repeat(32)}`,
            },
            signature: `0x${"00".repeat(96)}`,
          },
        },
      });
    }
    const atts = /^\/eth\/v([12])\/beacon\/blocks\/(0x[0-9a-f]{64})(\/attestations)?$/.exec(path);
    if (atts !== null && req.method === "GET") {
      const [, version, root, sub] = atts;
      const b = [...this.blocks.values()].find((x) => x.root === root);
      if (sub !== undefined && version === "2" && this.oldForms) return notFound();
      if (sub === undefined && version === "1") return notFound();
      if (b === undefined) return send(res, 404, { code: 404, message: "Block not found" });
      if (sub !== undefined) return send(res, 200, { version: "altair", data: b.attestations });
      return send(res, 200, { version: "altair", data: { message: { body: { attestations: b.attestations } } } });
    }
    return notFound();
  }

  private epochAnswerable(epoch: bigint): boolean {
    const cur = this.currentEpoch();
    return epoch >= cur - 1n && epoch <= cur + 1n;
  }

  /** Index of a validator by public key. */
  indexOf(pubkey: string): number | undefined {
    return this.validators.find((v) => v.pubkey === pubkey)?.index;
  }

  private validatorsFor(ids: string[]) {
    const want = new Set(ids.map((i) => i.toLowerCase()));
    if (this.autoIndex)
      for (const id of want)
        if (id.startsWith("0x") && this.indexOf(id) === undefined)
          this.validators.push({ index: this.validators.length, pubkey: id });
    return this.validators
      .filter((v) => want.has(v.pubkey) || want.has(String(v.index)))
      .map((v) => ({
        index: String(v.index),
        balance: "32000000000",
        status: v.status ?? "active_ongoing",
        validator: {
          pubkey: v.pubkey,
          withdrawal_credentials: `0x${"00".repeat(32)}`,
          effective_balance: "32000000000",
          slashed: false,
        },
      }));
  }
}

function send(res: ServerResponse, status: number, body: unknown): true {
  sendJson(res, status, body);
  return true;
}

/** An SSZ Bitlist of `length` bits with `set` positions set (and the length bit). */
export function bitlist(length: number, set: number[]): string {
  const bytes = new Uint8Array(Math.floor(length / 8) + 1);
  for (const i of set) {
    if (i < 0 || i >= length) throw new Error(`bit ${i} outside a list of ${length}`);
    bytes[i >> 3]! |= 1 << (i & 7);
  }
  bytes[length >> 3]! |= 1 << (length & 7);
  return `0x${Buffer.from(bytes).toString("hex")}`;
}
