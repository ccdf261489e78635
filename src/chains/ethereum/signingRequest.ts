import type { Type } from "@chainsafe/ssz";
import { AppError, BadRequestError } from "../../util/errors.js";
import { bytesEqual, parseHex, toHex } from "../../util/hex.js";
import { parseU64Lenient } from "../../util/u64.js";
import { computeDomain, computeSigningRoot, DomainType } from "./domain.js";
import type { EthSszTypes } from "./sszTypes.js";

/** Every signing type of the remote-signing API (Web3Signer's ArtifactType). */
const SIGNING_TYPES = [
  "BLOCK",
  "BLOCK_V2",
  "ATTESTATION",
  "AGGREGATION_SLOT",
  "AGGREGATE_AND_PROOF",
  "AGGREGATE_AND_PROOF_V2",
  "DEPOSIT",
  "RANDAO_REVEAL",
  "VOLUNTARY_EXIT",
  "SYNC_COMMITTEE_MESSAGE",
  "SYNC_COMMITTEE_SELECTION_PROOF",
  "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
  "VALIDATOR_REGISTRATION",
] as const;
export type SigningType = (typeof SIGNING_TYPES)[number];

/** Fork names the `version` fields may carry, in upper case on the wire. */
const FORKS = ["PHASE0", "ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"] as const;

export enum SigningErrorCode {
  RootMismatch = "ERR_SIGNING_ROOT_MISMATCH",
}

export class SigningRequestError extends AppError<{
  code: SigningErrorCode.RootMismatch;
  computed: string;
  given: string;
}> {}

export interface ForkInfo {
  previousVersion: Uint8Array;
  currentVersion: Uint8Array;
  epoch: bigint;
  genesisValidatorsRoot: Uint8Array;
}

/** What slashing protection must decide before this request may be signed. */
export type ProtectedMessage =
  | { kind: "block"; slot: bigint }
  | { kind: "attestation"; source: bigint; target: bigint };

export interface SigningRequest {
  type: SigningType;
  /** The root we computed from the body (the only root ever signed). */
  signingRoot: Uint8Array;
  forkInfo: ForkInfo | null;
  protected: ProtectedMessage | null;
  /** Epoch the message belongs to, when it has one (logs, liveness tracking). */
  epoch: bigint | null;
}

export interface NetworkParams {
  /** The network's GENESIS_FORK_VERSION: validator registrations are signed with it and a zero root. */
  genesisForkVersion: Uint8Array;
}

const ZERO_ROOT = new Uint8Array(32);

/**
 * Parses a `POST /api/v1/eth2/sign/{pubkey}` body and computes its signing root. Malformed input is
 * ERR_BAD_REQUEST naming the field; a client signingRoot that differs from ours is ERR_SIGNING_ROOT_MISMATCH.
 */
export function parseSigningRequest(body: unknown, t: EthSszTypes, net: NetworkParams): SigningRequest {
  const b = obj(body, "body");
  const rawType = b.type;
  if (typeof rawType !== "string") throw new BadRequestError("type is required", "type");
  const type = rawType.toUpperCase() as SigningType;
  if (!SIGNING_TYPES.includes(type)) throw new BadRequestError(`unknown signing type ${rawType.slice(0, 64)}`, "type");
  const needsFork = type !== "DEPOSIT" && type !== "VALIDATOR_REGISTRATION";
  const forkInfo = needsFork ? parseForkInfo(b.fork_info ?? b.forkInfo) : null;
  const epochAt = (slot: bigint): bigint => slot / t.slotsPerEpoch;
  const withFork = (domainType: Uint8Array, epoch: bigint, objectRoot: Uint8Array): Uint8Array => {
    const f = forkInfo!;
    const version = epoch < f.epoch ? f.previousVersion : f.currentVersion;
    return computeSigningRoot(t, objectRoot, computeDomain(t, domainType, version, f.genesisValidatorsRoot));
  };

  let signingRoot: Uint8Array;
  let protectedMsg: ProtectedMessage | null = null;
  let epoch: bigint | null = null;
  switch (type) {
    case "BLOCK":
    case "BLOCK_V2": {
      let header: { slot: bigint; root: Uint8Array };
      if (type === "BLOCK") {
        header = fullBlock(t, "phase0", b.block, "block");
      } else {
        const bb = obj(b.beacon_block ?? b.beaconBlock, "beacon_block");
        const fork = forkOf(bb.version, "beacon_block.version");
        if (bb.block_header !== undefined || bb.blockHeader !== undefined) {
          const h = decode<{ slot: bigint }>(
            t.beaconBlockHeader,
            bb.block_header ?? bb.blockHeader,
            "beacon_block.block_header",
          );
          header = { slot: h.value.slot, root: h.root };
        } else {
          header = fullBlock(t, fork, bb.block, "beacon_block.block");
        }
      }
      epoch = epochAt(header.slot);
      protectedMsg = { kind: "block", slot: header.slot };
      signingRoot = withFork(DomainType.beaconProposer, epoch, header.root);
      break;
    }
    case "ATTESTATION": {
      const a = decode<{ source: { epoch: bigint }; target: { epoch: bigint } }>(
        t.attestationData,
        b.attestation,
        "attestation",
      );
      epoch = a.value.target.epoch;
      protectedMsg = { kind: "attestation", source: a.value.source.epoch, target: a.value.target.epoch };
      signingRoot = withFork(DomainType.beaconAttester, epoch, a.root);
      break;
    }
    case "AGGREGATION_SLOT": {
      const slot = parseU64Lenient(
        obj(b.aggregation_slot ?? b.aggregationSlot, "aggregation_slot").slot,
        "aggregation_slot.slot",
      );
      epoch = epochAt(slot);
      signingRoot = withFork(DomainType.selectionProof, epoch, t.uint64.hashTreeRoot(slot));
      break;
    }
    case "AGGREGATE_AND_PROOF":
    case "AGGREGATE_AND_PROOF_V2": {
      let fork = "phase0";
      let data = b.aggregate_and_proof ?? b.aggregateAndProof;
      if (type === "AGGREGATE_AND_PROOF_V2") {
        const v = obj(data, "aggregate_and_proof");
        fork = forkOf(v.version, "aggregate_and_proof.version");
        data = v.data;
      }
      const ap = decode<{ aggregate: { data: { slot: bigint } } }>(
        t.aggregateAndProof[fork]!,
        data,
        "aggregate_and_proof",
      );
      epoch = epochAt(ap.value.aggregate.data.slot);
      signingRoot = withFork(DomainType.aggregateAndProof, epoch, ap.root);
      break;
    }
    case "RANDAO_REVEAL": {
      epoch = parseU64Lenient(obj(b.randao_reveal ?? b.randaoReveal, "randao_reveal").epoch, "randao_reveal.epoch");
      signingRoot = withFork(DomainType.randao, epoch, t.uint64.hashTreeRoot(epoch));
      break;
    }
    case "VOLUNTARY_EXIT": {
      const e = decode<{ epoch: bigint }>(t.voluntaryExit, b.voluntary_exit ?? b.voluntaryExit, "voluntary_exit");
      epoch = e.value.epoch;
      signingRoot = withFork(DomainType.voluntaryExit, epoch, e.root);
      break;
    }
    case "SYNC_COMMITTEE_MESSAGE": {
      const m = obj(b.sync_committee_message ?? b.syncCommitteeMessage, "sync_committee_message");
      const slot = parseU64Lenient(m.slot, "sync_committee_message.slot");
      const blockRoot = parseHex(
        m.beacon_block_root ?? m.beaconBlockRoot,
        "sync_committee_message.beacon_block_root",
        32,
      );
      epoch = epochAt(slot);
      signingRoot = withFork(DomainType.syncCommittee, epoch, blockRoot);
      break;
    }
    case "SYNC_COMMITTEE_SELECTION_PROOF": {
      const s = decode<{ slot: bigint }>(
        t.syncAggregatorSelectionData,
        b.sync_aggregator_selection_data ?? b.syncAggregatorSelectionData,
        "sync_aggregator_selection_data",
      );
      epoch = epochAt(s.value.slot);
      signingRoot = withFork(DomainType.syncCommitteeSelectionProof, epoch, s.root);
      break;
    }
    case "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF": {
      const c = decode<{ contribution: { slot: bigint } }>(
        t.contributionAndProof,
        b.contribution_and_proof ?? b.contributionAndProof,
        "contribution_and_proof",
      );
      epoch = epochAt(c.value.contribution.slot);
      signingRoot = withFork(DomainType.contributionAndProof, epoch, c.root);
      break;
    }
    case "VALIDATOR_REGISTRATION": {
      const r = decode(
        t.validatorRegistration,
        b.validator_registration ?? b.validatorRegistration,
        "validator_registration",
      );
      const domain = computeDomain(t, DomainType.applicationBuilder, net.genesisForkVersion, ZERO_ROOT);
      signingRoot = computeSigningRoot(t, r.root, domain);
      break;
    }
    case "DEPOSIT": {
      const d = obj(b.deposit, "deposit");
      const forkVersion = parseHex(d.genesis_fork_version ?? d.genesisForkVersion, "deposit.genesis_fork_version", 4);
      const m = decode(
        t.depositMessage,
        {
          pubkey: d.pubkey,
          withdrawal_credentials: d.withdrawal_credentials ?? d.withdrawalCredentials,
          amount: d.amount,
        },
        "deposit",
      );
      signingRoot = computeSigningRoot(t, m.root, computeDomain(t, DomainType.deposit, forkVersion, ZERO_ROOT));
      break;
    }
  }

  const given = b.signingRoot ?? b.signing_root;
  if (given !== undefined && given !== null) {
    const root = parseHex(given, "signingRoot", 32);
    if (!bytesEqual(root, signingRoot)) {
      throw new SigningRequestError(
        { code: SigningErrorCode.RootMismatch, computed: toHex(signingRoot), given: toHex(root) },
        "signingRoot differs from the root computed from the request data",
      );
    }
  }
  return { type, signingRoot, forkInfo, protected: protectedMsg, epoch };
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError(`${field} must be an object`, field);
  return v as Record<string, unknown>;
}

function forkOf(v: unknown, field: string): string {
  const name = typeof v === "string" ? v.toUpperCase() : "";
  if (!(FORKS as readonly string[]).includes(name))
    throw new BadRequestError(`${field} must be one of ${FORKS.join(", ")}`, field);
  return name.toLowerCase();
}

function parseForkInfo(v: unknown): ForkInfo {
  const f = obj(v, "fork_info");
  const fork = obj(f.fork, "fork_info.fork");
  return {
    previousVersion: parseHex(fork.previous_version ?? fork.previousVersion, "fork_info.fork.previous_version", 4),
    currentVersion: parseHex(fork.current_version ?? fork.currentVersion, "fork_info.fork.current_version", 4),
    epoch: parseU64Lenient(fork.epoch, "fork_info.fork.epoch"),
    genesisValidatorsRoot: parseHex(
      f.genesis_validators_root ?? f.genesisValidatorsRoot,
      "fork_info.genesis_validators_root",
      32,
    ),
  };
}

function fullBlock(t: EthSszTypes, fork: string, v: unknown, field: string): { slot: bigint; root: Uint8Array } {
  const type = t.beaconBlock[fork];
  if (type === undefined) throw new BadRequestError(`no full-block type for fork ${fork}`, field);
  const blk = decode<{ slot: bigint }>(type, v, field);
  return { slot: blk.value.slot, root: blk.root };
}

/** Decodes the SSZ JSON form (snake_case; camelCase accepted) and hashes it; any problem is a 400 naming the field. */
function decode<T = unknown>(type: Type<unknown>, v: unknown, field: string): { value: T; root: Uint8Array } {
  obj(v, field);
  let value: T;
  try {
    value = type.fromJson(snakeCase(v, field)) as T;
  } catch (e) {
    if (e instanceof BadRequestError) throw e;
    throw new BadRequestError(`${field} is malformed: ${e instanceof Error ? e.message : String(e)}`, field);
  }
  return { value, root: type.hashTreeRoot(value) };
}

/** camelCase keys to snake_case (some clients and Web3Signer's own examples use them); unsafe JSON numbers refused. */
function snakeCase(v: unknown, field: string): unknown {
  if (Array.isArray(v)) return v.map((x) => snakeCase(x, field));
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new BadRequestError(`${field}: numbers must be decimal strings (a JSON number loses precision)`, field);
  }
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeCase(x, field);
  return out;
}
