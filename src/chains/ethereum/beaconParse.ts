import { BadRequestError } from "../../util/errors.js";
import { parseHex, toHex } from "../../util/hex.js";
import { parseU64Lenient } from "../../util/u64.js";

/**
 * Parsers of beacon API answers (standard forms and the older ones of Lodestar 1.5.1, which gives some
 * numbers as JSON numbers). Anything unexpected is ERR_BAD_REQUEST naming the field; the client turns
 * it into ERR_BEACON_BAD_RESPONSE for the node that sent it.
 */

/**
 * Validator indices are u64 on the wire but bounded by VALIDATOR_REGISTRY_LIMIT = 2^40 (consensus
 * specs), so they are exact as JS numbers and fit typed arrays; a larger value is malformed.
 */
const VALIDATOR_REGISTRY_LIMIT = 2 ** 40;

export interface Genesis {
  genesisTimeSec: bigint;
  genesisValidatorsRoot: Uint8Array;
  genesisForkVersion: Uint8Array;
}

export interface ChainSpec {
  secondsPerSlot: bigint;
  slotsPerEpoch: bigint;
  /** PRESET_BASE ("mainnet", "minimal"), when the node says. */
  presetBase: string | null;
}

export interface SyncStatus {
  isSyncing: boolean;
  syncDistance: bigint;
  headSlot: bigint;
}

export interface ForkVersions {
  previousVersion: Uint8Array;
  currentVersion: Uint8Array;
  epoch: bigint;
}

export interface ValidatorEntry {
  index: number;
  /** Lower-case 0x-hex. */
  pubkey: string;
  status: string;
}

export interface LivenessEntry {
  index: number;
  isLive: boolean;
}

export interface Committee {
  index: bigint;
  slot: bigint;
  validators: Float64Array;
}

export interface BlockHeader {
  root: Uint8Array;
  slot: bigint;
  proposerIndex: number;
}

/** AttestationData as JSON (kept for SSZ hashing) with its numbers parsed. */
export interface AttestationDataJson {
  slot: bigint;
  index: bigint;
  targetEpoch: bigint;
  sourceEpoch: bigint;
  json: Record<string, unknown>;
}

export interface OnchainAttestation {
  aggregationBits: Uint8Array;
  /** Electra on: which committees of the slot the aggregate covers; null before. */
  committeeBits: Uint8Array | null;
  data: AttestationDataJson;
}

export function parseGenesis(body: unknown): Genesis {
  const d = data(body);
  return {
    genesisTimeSec: parseU64Lenient(d.genesis_time, "genesis_time"),
    genesisValidatorsRoot: parseHex(d.genesis_validators_root, "genesis_validators_root", 32),
    genesisForkVersion: parseHex(d.genesis_fork_version, "genesis_fork_version", 4),
  };
}

export function parseSpec(body: unknown): ChainSpec {
  const d = data(body);
  const seconds = parseU64Lenient(d.SECONDS_PER_SLOT, "SECONDS_PER_SLOT");
  const slots = parseU64Lenient(d.SLOTS_PER_EPOCH, "SLOTS_PER_EPOCH");
  if (seconds === 0n || seconds > 3600n) throw new BadRequestError("SECONDS_PER_SLOT out of range", "SECONDS_PER_SLOT");
  if (slots === 0n || slots > 1024n) throw new BadRequestError("SLOTS_PER_EPOCH out of range", "SLOTS_PER_EPOCH");
  const preset = d.PRESET_BASE;
  return {
    secondsPerSlot: seconds,
    slotsPerEpoch: slots,
    presetBase: typeof preset === "string" && /^[a-z]{1,16}$/.test(preset) ? preset : null,
  };
}

export function parseSyncing(body: unknown): SyncStatus {
  const d = data(body);
  if (typeof d.is_syncing !== "boolean") throw new BadRequestError("is_syncing must be a boolean", "is_syncing");
  return {
    isSyncing: d.is_syncing,
    syncDistance: parseU64Lenient(d.sync_distance, "sync_distance"),
    headSlot: parseU64Lenient(d.head_slot, "head_slot"),
  };
}

export function parseFork(body: unknown): ForkVersions {
  const d = data(body);
  return {
    previousVersion: parseHex(d.previous_version, "previous_version", 4),
    currentVersion: parseHex(d.current_version, "current_version", 4),
    epoch: parseU64Lenient(d.epoch, "epoch"),
  };
}

export function parseValidators(body: unknown): ValidatorEntry[] {
  return list(body).map((e, i) => {
    const o = obj(e, `data[${i}]`);
    const v = obj(o.validator, `data[${i}].validator`);
    if (typeof o.status !== "string" || o.status.length > 64)
      throw new BadRequestError(`data[${i}].status must be a string`, "status");
    return {
      index: parseValidatorIndex(o.index, `data[${i}].index`),
      pubkey: toHex(parseHex(v.pubkey, `data[${i}].validator.pubkey`, 48)),
      status: o.status,
    };
  });
}

/**
 * Liveness answers of both forms: `{"index":"1","is_live":true}` (standard) or
 * `{"index":1,"epoch":5,"is_live":true}` (older). An entry naming another epoch is malformed.
 */
export function parseLiveness(body: unknown, epoch: bigint): LivenessEntry[] {
  return list(body).map((e, i) => {
    const o = obj(e, `data[${i}]`);
    if (typeof o.is_live !== "boolean") throw new BadRequestError(`data[${i}].is_live must be a boolean`, "is_live");
    if (o.epoch !== undefined && parseU64Lenient(o.epoch, `data[${i}].epoch`) !== epoch)
      throw new BadRequestError(`data[${i}].epoch is not the epoch asked for`, "epoch");
    return { index: parseValidatorIndex(o.index, `data[${i}].index`), isLive: o.is_live };
  });
}

export function parseCommittees(body: unknown): Committee[] {
  return list(body).map((e, i) => {
    const o = obj(e, `data[${i}]`);
    if (!Array.isArray(o.validators)) throw new BadRequestError(`data[${i}].validators must be an array`, "validators");
    const validators = new Float64Array(o.validators.length);
    o.validators.forEach((v, j) => {
      validators[j] = parseValidatorIndex(v, `data[${i}].validators[${j}]`);
    });
    return {
      index: parseU64Lenient(o.index, `data[${i}].index`),
      slot: parseU64Lenient(o.slot, `data[${i}].slot`),
      validators,
    };
  });
}

export function parseHeader(body: unknown): BlockHeader {
  const d = data(body);
  const msg = obj(obj(d.header, "header").message, "header.message");
  return {
    root: parseHex(d.root, "root", 32),
    slot: parseU64Lenient(msg.slot, "header.message.slot"),
    proposerIndex: parseValidatorIndex(msg.proposer_index, "header.message.proposer_index"),
  };
}

/** `/eth/v{1,2}/beacon/blocks/{id}/attestations`: the attestations of one block. */
export function parseAttestations(body: unknown): OnchainAttestation[] {
  return list(body).map((e, i) => parseAttestation(e, `data[${i}]`));
}

/** `/eth/v2/beacon/blocks/{id}`: the attestations of the block body (nodes without the attestations route). */
export function parseBlockBodyAttestations(body: unknown): OnchainAttestation[] {
  const d = data(body);
  const message = obj(d.message, "message");
  const b = obj(message.body, "message.body");
  if (!Array.isArray(b.attestations))
    throw new BadRequestError("message.body.attestations must be an array", "attestations");
  return b.attestations.map((e, i) => parseAttestation(e, `message.body.attestations[${i}]`));
}

function parseAttestation(e: unknown, field: string): OnchainAttestation {
  const o = obj(e, field);
  const d = obj(o.data, `${field}.data`);
  const source = obj(d.source, `${field}.data.source`);
  const target = obj(d.target, `${field}.data.target`);
  parseHex(d.beacon_block_root, `${field}.data.beacon_block_root`, 32);
  parseHex(source.root, `${field}.data.source.root`, 32);
  parseHex(target.root, `${field}.data.target.root`, 32);
  const aggregationBits = parseHex(o.aggregation_bits, `${field}.aggregation_bits`);
  if (aggregationBits.length === 0)
    throw new BadRequestError(`${field}.aggregation_bits is empty (a bitlist has a length bit)`, "aggregation_bits");
  return {
    aggregationBits,
    committeeBits: o.committee_bits === undefined ? null : parseHex(o.committee_bits, `${field}.committee_bits`),
    data: {
      slot: parseU64Lenient(d.slot, `${field}.data.slot`),
      index: parseU64Lenient(d.index, `${field}.data.index`),
      sourceEpoch: parseU64Lenient(source.epoch, `${field}.data.source.epoch`),
      targetEpoch: parseU64Lenient(target.epoch, `${field}.data.target.epoch`),
      json: d,
    },
  };
}

function parseValidatorIndex(v: unknown, field: string): number {
  const n = parseU64Lenient(v, field);
  if (n >= BigInt(VALIDATOR_REGISTRY_LIMIT))
    throw new BadRequestError(`${field} exceeds the validator registry limit`, field);
  return Number(n);
}

function data(body: unknown): Record<string, unknown> {
  return obj(obj(body, "body").data, "data");
}

function list(body: unknown): unknown[] {
  const d = obj(body, "body").data;
  if (!Array.isArray(d)) throw new BadRequestError("data must be an array", "data");
  return d;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError(`${field} must be a JSON object`, field);
  return v as Record<string, unknown>;
}
