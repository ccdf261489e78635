import { BitArray } from "@chainsafe/ssz";
import * as params from "@lodestar/params";
import { ssz } from "@lodestar/types";

/**
 * Signing-request bodies for every type, each with the root expected for it, computed here with
 * lodestar's own (mainnet-preset) types and domain constants and a hand-written compute_domain /
 * compute_signing_root: independent of the parser, bigint types and domain code under test.
 */
export const TEST_GVR = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
export const TEST_GVR_HEX = hex(TEST_GVR);
export const GENESIS_FORK = Uint8Array.of(0, 0, 0, 0);
const PREV = Uint8Array.of(4, 0, 0, 0);
const CURR = Uint8Array.of(5, 0, 0, 0);
export const FORK_EPOCH = 100;

export function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b).toString("hex")}`;
}

export function expectedRoot(
  objectRoot: Uint8Array,
  domainType: Uint8Array,
  version: Uint8Array,
  gvr = TEST_GVR,
): string {
  const forkDataRoot = ssz.phase0.ForkData.hashTreeRoot({ currentVersion: version, genesisValidatorsRoot: gvr });
  const domain = new Uint8Array([...domainType, ...forkDataRoot.subarray(0, 28)]);
  return hex(ssz.phase0.SigningData.hashTreeRoot({ objectRoot, domain }));
}

export function forkInfo(gvr = TEST_GVR_HEX): object {
  return {
    fork: { previous_version: hex(PREV), current_version: hex(CURR), epoch: String(FORK_EPOCH) },
    genesis_validators_root: gvr,
  };
}

export interface TestRequest {
  name: string;
  body: Record<string, unknown>;
  root: string;
}

const versionAt = (epoch: number): Uint8Array => (epoch < FORK_EPOCH ? PREV : CURR);

export function attestationRequest(source: number, target: number, tag = 7): TestRequest {
  const v = ssz.phase0.AttestationData.defaultValue();
  v.slot = target * 32 + 3;
  v.index = 1;
  v.beaconBlockRoot = new Uint8Array(32).fill(tag);
  v.source.epoch = source;
  v.target.epoch = target;
  return {
    name: `ATTESTATION ${source}->${target}`,
    body: { type: "ATTESTATION", fork_info: forkInfo(), attestation: ssz.phase0.AttestationData.toJson(v) },
    root: expectedRoot(ssz.phase0.AttestationData.hashTreeRoot(v), params.DOMAIN_BEACON_ATTESTER, versionAt(target)),
  };
}

export function blockRequest(slot: number, tag = 1): TestRequest {
  const v = ssz.deneb.BeaconBlock.defaultValue();
  v.slot = slot;
  v.proposerIndex = 9;
  v.parentRoot = new Uint8Array(32).fill(tag);
  const header = {
    slot: String(slot),
    proposer_index: "9",
    parent_root: hex(v.parentRoot),
    state_root: hex(v.stateRoot),
    body_root: hex(ssz.deneb.BeaconBlockBody.hashTreeRoot(v.body)),
  };
  return {
    name: `BLOCK_V2 ${slot}`,
    body: { type: "BLOCK_V2", fork_info: forkInfo(), beacon_block: { version: "DENEB", block_header: header } },
    root: expectedRoot(
      ssz.deneb.BeaconBlock.hashTreeRoot(v),
      params.DOMAIN_BEACON_PROPOSER,
      versionAt(Math.floor(slot / 32)),
    ),
  };
}

/** One request of every signing type (protected ones at the given epoch). */
export function everyType(epoch: number): TestRequest[] {
  const slot = epoch * 32 + 5;
  const version = versionAt(epoch);
  const out: TestRequest[] = [attestationRequest(epoch - 1, epoch), blockRequest(slot)];

  const phase0Block = ssz.phase0.BeaconBlock.defaultValue();
  phase0Block.slot = slot + 1;
  out.push({
    name: "BLOCK (deprecated, phase0 block)",
    body: { type: "BLOCK", fork_info: forkInfo(), block: ssz.phase0.BeaconBlock.toJson(phase0Block) },
    root: expectedRoot(ssz.phase0.BeaconBlock.hashTreeRoot(phase0Block), params.DOMAIN_BEACON_PROPOSER, version),
  });

  out.push({
    name: "AGGREGATION_SLOT",
    body: { type: "AGGREGATION_SLOT", fork_info: forkInfo(), aggregation_slot: { slot: String(slot) } },
    root: expectedRoot(ssz.Slot.hashTreeRoot(slot), params.DOMAIN_SELECTION_PROOF, version),
  });
  for (const [fork, type] of [
    ["phase0", "AGGREGATE_AND_PROOF"],
    ["electra", "AGGREGATE_AND_PROOF_V2"],
  ] as const) {
    const t = ssz[fork].AggregateAndProof as any;
    const ap = t.defaultValue();
    ap.aggregatorIndex = 3;
    ap.aggregate.data.slot = slot;
    ap.aggregate.aggregationBits = BitArray.fromBoolArray([true, false, true]);
    const data = t.toJson(ap);
    out.push({
      name: `${type} (${fork})`,
      body: {
        type,
        fork_info: forkInfo(),
        aggregate_and_proof: type === "AGGREGATE_AND_PROOF" ? data : { version: fork.toUpperCase(), data },
      },
      root: expectedRoot(t.hashTreeRoot(ap), params.DOMAIN_AGGREGATE_AND_PROOF, version),
    });
  }
  const dep = {
    pubkey: hex(new Uint8Array(48).fill(4)),
    withdrawal_credentials: hex(new Uint8Array(32).fill(1)),
    amount: "32000000000",
  };
  out.push({
    name: "DEPOSIT",
    body: { type: "DEPOSIT", deposit: { ...dep, genesis_fork_version: "0x00000000" } },
    root: expectedRoot(
      ssz.phase0.DepositMessage.hashTreeRoot(ssz.phase0.DepositMessage.fromJson(dep)),
      params.DOMAIN_DEPOSIT,
      GENESIS_FORK,
      new Uint8Array(32),
    ),
  });
  out.push({
    name: "RANDAO_REVEAL",
    body: { type: "RANDAO_REVEAL", fork_info: forkInfo(), randao_reveal: { epoch: String(epoch) } },
    root: expectedRoot(ssz.Epoch.hashTreeRoot(epoch), params.DOMAIN_RANDAO, version),
  });
  out.push({
    name: "VOLUNTARY_EXIT",
    body: {
      type: "VOLUNTARY_EXIT",
      fork_info: forkInfo(),
      voluntary_exit: { epoch: String(epoch), validator_index: "12" },
    },
    root: expectedRoot(
      ssz.phase0.VoluntaryExit.hashTreeRoot({ epoch, validatorIndex: 12 }),
      params.DOMAIN_VOLUNTARY_EXIT,
      version,
    ),
  });
  const blockRoot = new Uint8Array(32).fill(6);
  out.push({
    name: "SYNC_COMMITTEE_MESSAGE",
    body: {
      type: "SYNC_COMMITTEE_MESSAGE",
      fork_info: forkInfo(),
      sync_committee_message: { beacon_block_root: hex(blockRoot), slot: String(slot) },
    },
    root: expectedRoot(blockRoot, params.DOMAIN_SYNC_COMMITTEE, version),
  });
  out.push({
    name: "SYNC_COMMITTEE_SELECTION_PROOF",
    body: {
      type: "SYNC_COMMITTEE_SELECTION_PROOF",
      fork_info: forkInfo(),
      sync_aggregator_selection_data: { slot: String(slot), subcommittee_index: "1" },
    },
    root: expectedRoot(
      ssz.altair.SyncAggregatorSelectionData.hashTreeRoot({ slot, subcommitteeIndex: 1 }),
      params.DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
      version,
    ),
  });
  const cp = ssz.altair.ContributionAndProof.defaultValue();
  cp.aggregatorIndex = 2;
  cp.contribution.slot = slot;
  cp.contribution.aggregationBits.set(5, true);
  out.push({
    name: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
    body: {
      type: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
      fork_info: forkInfo(),
      contribution_and_proof: ssz.altair.ContributionAndProof.toJson(cp),
    },
    root: expectedRoot(ssz.altair.ContributionAndProof.hashTreeRoot(cp), params.DOMAIN_CONTRIBUTION_AND_PROOF, version),
  });
  const reg = {
    fee_recipient: hex(new Uint8Array(20).fill(3)),
    gas_limit: "30000000",
    timestamp: "1700000000",
    pubkey: hex(new Uint8Array(48).fill(4)),
  };
  out.push({
    name: "VALIDATOR_REGISTRATION",
    body: { type: "VALIDATOR_REGISTRATION", validator_registration: reg },
    root: expectedRoot(
      ssz.bellatrix.ValidatorRegistrationV1.hashTreeRoot(ssz.bellatrix.ValidatorRegistrationV1.fromJson(reg)),
      params.DOMAIN_APPLICATION_BUILDER,
      GENESIS_FORK,
      new Uint8Array(32),
    ),
  });
  return out;
}
