import { BadRequestError } from "../../util/errors.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import { redactUrl } from "../../util/redact.js";
import { BeaconError, BeaconErrorCode } from "./beaconErrors.js";
import { type BeaconAnswer, BeaconHttp, type BeaconHttpOptions, stripQuery } from "./beaconHttp.js";
import {
  type BlockHeader,
  type ChainSpec,
  type Committee,
  type ForkVersions,
  type Genesis,
  type OnchainAttestation,
  parseAttestations,
  parseBlockBodyAttestations,
  parseCommittees,
  parseFork,
  parseGenesis,
  parseHeader,
  parseLiveness,
  parseSpec,
  parseSyncing,
  parseValidators,
  type ValidatorEntry,
} from "./beaconParse.js";

/** Indices per liveness or validators POST (beacon nodes cap request bodies; 1,000 is far below every cap). */
const POST_BATCH = 1000;
/** Ids per GET of the older forms: they go in the query string, which nodes cap near 8-16 KiB. */
const GET_BATCH = 64;
/** A node this many slots behind its peers is still usable (the specs' own tolerance for "synced"). */
const SYNC_TOLERANCE = 1n;

/** Liveness of one epoch from one node: index -> live. An index the node left out is absent. */
export type EpochLiveness = Map<number, boolean>;

export interface LivenessAnswer {
  node: string;
  byEpoch: Map<bigint, EpochLiveness>;
}

/** The calls the doppelganger guard and the foreign-signer check make. */
export interface BeaconApi {
  readonly urls: readonly string[];
  genesis(expectedRoot?: Uint8Array): Promise<Genesis>;
  spec(): Promise<ChainSpec>;
  validatorIndices(pubkeys: readonly string[]): Promise<Map<string, ValidatorEntry>>;
  liveness(epochs: readonly bigint[], indices: readonly number[]): Promise<LivenessAnswer>;
  fork(): Promise<ForkVersions>;
  committees(epoch: bigint): Promise<Committee[]>;
  header(slot: bigint): Promise<BlockHeader | null>;
  blockAttestations(blockRoot: Uint8Array): Promise<OnchainAttestation[]>;
}

/** Features whose standard route a node lacked (404/405): it is asked in the older form from then on. */
type OldForm = "liveness" | "validators" | "attestationsV2" | "attestationsV1";

/**
 * Beacon API client over several nodes with failover. Calls that must agree with each other (a sync
 * check and the liveness of several epochs) run on one node. Standard forms first; a node that answers
 * 404/405 to a standard route is asked in the older form (Lodestar 1.5.1: GET liveness and validators,
 * v1 block attestations).
 */
export class BeaconClient implements BeaconApi {
  private readonly http: BeaconHttp;
  private readonly oldForms = new Map<string, Set<OldForm>>();

  constructor(opts: BeaconHttpOptions) {
    this.http = new BeaconHttp(opts);
  }

  get urls(): readonly string[] {
    return this.http.urls;
  }

  /** Genesis of the first node that answers; with `expectedRoot`, a node of another network is skipped. */
  genesis(expectedRoot?: Uint8Array): Promise<Genesis> {
    return this.http.firstSuccess(async (node) => {
      const g = this.parsed(
        node,
        "/eth/v1/beacon/genesis",
        await this.ok(node, "GET", "/eth/v1/beacon/genesis"),
        parseGenesis,
      );
      if (expectedRoot !== undefined && !bytesEqual(g.genesisValidatorsRoot, expectedRoot)) {
        throw new BeaconError({
          code: BeaconErrorCode.WrongNetwork,
          node,
          expected: toHex(expectedRoot),
          found: toHex(g.genesisValidatorsRoot),
        });
      }
      return g;
    });
  }

  spec(): Promise<ChainSpec> {
    return this.http.firstSuccess(async (node) =>
      this.parsed(node, "/eth/v1/config/spec", await this.ok(node, "GET", "/eth/v1/config/spec"), parseSpec),
    );
  }

  fork(): Promise<ForkVersions> {
    const path = "/eth/v1/beacon/states/head/fork";
    return this.http.firstSuccess(async (node) => this.parsed(node, path, await this.ok(node, "GET", path), parseFork));
  }

  /** Index and status of each public key the chain knows (keys without a deposit are absent). */
  validatorIndices(pubkeys: readonly string[]): Promise<Map<string, ValidatorEntry>> {
    return this.http.firstSuccess(async (node) => {
      const out = new Map<string, ValidatorEntry>();
      const path = "/eth/v1/beacon/states/head/validators";
      for (let i = 0; i < pubkeys.length; ) {
        const old = this.usesOld(node, "validators");
        const n = old ? GET_BATCH : POST_BATCH;
        const batch = pubkeys.slice(i, i + n);
        const a = old
          ? await this.ok(node, "GET", `${path}?${batch.map((p) => `id=${p}`).join("&")}`)
          : await this.orOld(node, "validators", "POST", path, { ids: batch });
        if (a === null) continue; // the node lacks the POST form: the same batch again, in GET batches
        for (const v of this.parsed(node, path, a, parseValidators)) out.set(v.pubkey, v);
        i += n;
      }
      return out;
    });
  }

  /**
   * Liveness of `indices` in each of `epochs`, all from one synced node (a node still syncing has not
   * seen the network and would call every key silent).
   */
  liveness(epochs: readonly bigint[], indices: readonly number[]): Promise<LivenessAnswer> {
    return this.http.firstSuccess(async (node) => {
      await this.assertSynced(node);
      const byEpoch = new Map<bigint, EpochLiveness>();
      for (const epoch of epochs) {
        const m: EpochLiveness = new Map();
        for (let i = 0; i < indices.length; ) {
          const old = this.usesOld(node, "liveness");
          const n = old ? GET_BATCH : POST_BATCH;
          const batch = indices.slice(i, i + n);
          const a = old
            ? await this.ok(
                node,
                "GET",
                `/eth/v1/validator/liveness?${batch.map((x) => `indices=${x}`).join("&")}&epoch=${epoch}`,
              )
            : await this.orOld(node, "liveness", "POST", `/eth/v1/validator/liveness/${epoch}`, batch.map(String));
          if (a === null) continue;
          for (const e of this.parsed(node, "/eth/v1/validator/liveness", a, (b) => parseLiveness(b, epoch)))
            m.set(e.index, e.isLive);
          i += n;
        }
        byEpoch.set(epoch, m);
      }
      // a label for alerts and logs: the URL without credentials
      return { node: redactUrl(node), byEpoch };
    });
  }

  committees(epoch: bigint): Promise<Committee[]> {
    const path = `/eth/v1/beacon/states/head/committees?epoch=${epoch}`;
    return this.http.firstSuccess(async (node) =>
      this.parsed(node, path, await this.ok(node, "GET", path), parseCommittees),
    );
  }

  /** The canonical block header at a slot, or null when the slot has no block. */
  header(slot: bigint): Promise<BlockHeader | null> {
    const path = `/eth/v1/beacon/headers/${slot}`;
    return this.http.firstSuccess(async (node) => {
      const a = await this.http.call(node, "GET", path);
      if (a.status === 404) return null;
      return this.parsed(node, path, this.expectOk(node, path, a), parseHeader);
    });
  }

  /** Attestations of a block known to exist: v2 route, else v1, else the block body. */
  blockAttestations(blockRoot: Uint8Array): Promise<OnchainAttestation[]> {
    const id = toHex(blockRoot);
    return this.http.firstSuccess(async (node) => {
      if (!this.usesOld(node, "attestationsV2")) {
        const a = await this.orOld(node, "attestationsV2", "GET", `/eth/v2/beacon/blocks/${id}/attestations`);
        if (a !== null) return this.parsed(node, "/eth/v2/beacon/blocks/{id}/attestations", a, parseAttestations);
      }
      if (!this.usesOld(node, "attestationsV1")) {
        const a = await this.orOld(node, "attestationsV1", "GET", `/eth/v1/beacon/blocks/${id}/attestations`);
        if (a !== null) return this.parsed(node, "/eth/v1/beacon/blocks/{id}/attestations", a, parseAttestations);
      }
      const path = `/eth/v2/beacon/blocks/${id}`;
      return this.parsed(
        node,
        "/eth/v2/beacon/blocks/{id}",
        await this.ok(node, "GET", path),
        parseBlockBodyAttestations,
      );
    });
  }

  private async assertSynced(node: string): Promise<void> {
    const path = "/eth/v1/node/syncing";
    const s = this.parsed(node, path, await this.ok(node, "GET", path), parseSyncing);
    if (s.isSyncing && s.syncDistance > SYNC_TOLERANCE)
      throw new BeaconError({ code: BeaconErrorCode.Syncing, node, distance: s.syncDistance });
  }

  private usesOld(node: string, f: OldForm): boolean {
    return this.oldForms.get(node)?.has(f) === true;
  }

  /** The standard form; on 404/405 the node is marked as speaking the older form and null returned. */
  private async orOld(
    node: string,
    f: OldForm,
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<BeaconAnswer | null> {
    const a = await this.http.call(node, method, path, body);
    if (a.status === 404 || a.status === 405) {
      const s = this.oldForms.get(node) ?? new Set<OldForm>();
      s.add(f);
      this.oldForms.set(node, s);
      return null;
    }
    return this.expectOk(node, path, a);
  }

  private async ok(node: string, method: "GET" | "POST", path: string, body?: unknown): Promise<BeaconAnswer> {
    return this.expectOk(node, path, await this.http.call(node, method, path, body));
  }

  private expectOk(node: string, path: string, a: BeaconAnswer): BeaconAnswer {
    if (a.status < 200 || a.status > 299)
      throw new BeaconError({ code: BeaconErrorCode.Status, node, status: a.status, path: stripQuery(path) });
    return a;
  }

  private parsed<T>(node: string, path: string, a: BeaconAnswer, parse: (body: unknown) => T): T {
    try {
      return parse(a.body);
    } catch (e) {
      if (e instanceof BadRequestError)
        throw new BeaconError({
          code: BeaconErrorCode.BadResponse,
          node,
          path: stripQuery(path),
          field: e.type.field ?? "body",
        });
      throw e;
    }
  }
}
