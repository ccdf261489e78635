import { BitArray } from "@chainsafe/ssz";
import * as params from "@lodestar/params";
import { ssz } from "@lodestar/types";
import { describe, expect, it } from "vitest";
import { parseSigningRequest } from "../../src/chains/ethereum/signingRequest.js";
import { loadEthSszTypes } from "../../src/chains/ethereum/sszTypes.js";

/**
 * Mainnet preset. The expected roots are computed here with lodestar's own SSZ types and domain
 * constants and a hand-written compute_domain / compute_signing_root, independently of the parser
 * and bigint types under test.
 */
const GVR = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const PREV = Uint8Array.of(4, 0, 0, 0);
const CURR = Uint8Array.of(5, 0, 0, 0);
const FORK_EPOCH = 100;
const GENESIS_FORK = Uint8Array.of(0, 0, 0, 0);
const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;

function signingRoot(objectRoot: Uint8Array, domainType: Uint8Array, version: Uint8Array, gvr = GVR): string {
  const forkDataRoot = ssz.phase0.ForkData.hashTreeRoot({ currentVersion: version, genesisValidatorsRoot: gvr });
  const domain = new Uint8Array([...domainType, ...forkDataRoot.subarray(0, 28)]);
  return hex(ssz.phase0.SigningData.hashTreeRoot({ objectRoot, domain }));
}

const forkInfo = {
  fork: { previous_version: hex(PREV), current_version: hex(CURR), epoch: String(FORK_EPOCH) },
  genesis_validators_root: hex(GVR),
};

/** A value with every field filled (so a mis-hashed field shows), as lodestar JSON. */
function sample<T>(type: { defaultValue(): T; toJson(v: T): unknown }, fill: (v: T) => void): { value: T; json: any } {
  const v = type.defaultValue();
  fill(v);
  return { value: v, json: type.toJson(v) };
}

describe("signing roots on the mainnet preset", async () => {
  const t = await loadEthSszTypes("mainnet");
  const parse = (body: unknown): string =>
    hex(parseSigningRequest(body, t, { genesisForkVersion: GENESIS_FORK }).signingRoot);

  for (const epoch of [FORK_EPOCH - 1, FORK_EPOCH]) {
    const version = epoch < FORK_EPOCH ? PREV : CURR;
    const slot = epoch * 32 + 5;

    it(`ATTESTATION at epoch ${epoch}`, () => {
      const a = sample(ssz.phase0.AttestationData, (v) => {
        v.slot = slot;
        v.index = 3;
        v.beaconBlockRoot = new Uint8Array(32).fill(7);
        v.source.epoch = epoch - 1;
        v.target.epoch = epoch;
        v.target.root = new Uint8Array(32).fill(9);
      });
      const want = signingRoot(
        ssz.phase0.AttestationData.hashTreeRoot(a.value),
        params.DOMAIN_BEACON_ATTESTER,
        version,
      );
      expect(parse({ type: "ATTESTATION", fork_info: forkInfo, attestation: a.json })).toBe(want);
    });

    for (const fork of ["bellatrix", "capella", "deneb", "electra", "fulu"] as const) {
      it(`BLOCK_V2 ${fork} header and full block at epoch ${epoch}`, () => {
        const blk = sample(ssz[fork].BeaconBlock as any, (v: any) => {
          v.slot = slot;
          v.proposerIndex = 12;
          v.parentRoot = new Uint8Array(32).fill(1);
          v.body.graffiti = new Uint8Array(32).fill(2);
        });
        const root = (ssz[fork].BeaconBlock as any).hashTreeRoot(blk.value);
        const want = signingRoot(root, params.DOMAIN_BEACON_PROPOSER, version);
        const header = {
          slot: String(slot),
          proposer_index: "12",
          parent_root: hex(new Uint8Array(32).fill(1)),
          state_root: hex(new Uint8Array(32)),
          body_root: hex((ssz[fork].BeaconBlockBody as any).hashTreeRoot(blk.value.body)),
        };
        const V = fork.toUpperCase();
        expect(
          parse({ type: "BLOCK_V2", fork_info: forkInfo, beacon_block: { version: V, block_header: header } }),
        ).toBe(want);
        expect(parse({ type: "BLOCK_V2", fork_info: forkInfo, beacon_block: { version: V, block: blk.json } })).toBe(
          want,
        );
      });
    }

    it(`BLOCK_V2 altair full block (mainnet sync aggregate) at epoch ${epoch}`, () => {
      const blk = sample(ssz.altair.BeaconBlock, (v) => {
        v.slot = slot;
        v.body.syncAggregate.syncCommitteeBits.set(3, true);
      });
      const want = signingRoot(ssz.altair.BeaconBlock.hashTreeRoot(blk.value), params.DOMAIN_BEACON_PROPOSER, version);
      expect(
        parse({ type: "BLOCK_V2", fork_info: forkInfo, beacon_block: { version: "ALTAIR", block: blk.json } }),
      ).toBe(want);
    });

    for (const fork of ["phase0", "electra", "fulu"] as const) {
      it(`AGGREGATE_AND_PROOF_V2 ${fork} at epoch ${epoch}`, () => {
        const type = ssz[fork].AggregateAndProof as any;
        const ap = sample(type, (v: any) => {
          v.aggregatorIndex = 4;
          v.aggregate.data.slot = slot;
          v.aggregate.aggregationBits = BitArray.fromBoolArray([false, true, false, true]);
          if (v.aggregate.committeeBits) v.aggregate.committeeBits.set(63, true);
        });
        const want = signingRoot(type.hashTreeRoot(ap.value), params.DOMAIN_AGGREGATE_AND_PROOF, version);
        const body = {
          type: "AGGREGATE_AND_PROOF_V2",
          fork_info: forkInfo,
          aggregate_and_proof: { version: fork.toUpperCase(), data: ap.json },
        };
        expect(parse(body)).toBe(want);
      });
    }

    it(`SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF (mainnet bits) at epoch ${epoch}`, () => {
      const c = sample(ssz.altair.ContributionAndProof, (v) => {
        v.aggregatorIndex = 8;
        v.contribution.slot = slot;
        v.contribution.aggregationBits.set(100, true);
      });
      const want = signingRoot(
        ssz.altair.ContributionAndProof.hashTreeRoot(c.value),
        params.DOMAIN_CONTRIBUTION_AND_PROOF,
        version,
      );
      expect(
        parse({ type: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", fork_info: forkInfo, contribution_and_proof: c.json }),
      ).toBe(want);
    });

    it(`slot and epoch types at epoch ${epoch}`, () => {
      expect(parse({ type: "AGGREGATION_SLOT", fork_info: forkInfo, aggregation_slot: { slot: String(slot) } })).toBe(
        signingRoot(ssz.Slot.hashTreeRoot(slot), params.DOMAIN_SELECTION_PROOF, version),
      );
      expect(parse({ type: "RANDAO_REVEAL", fork_info: forkInfo, randao_reveal: { epoch: String(epoch) } })).toBe(
        signingRoot(ssz.Epoch.hashTreeRoot(epoch), params.DOMAIN_RANDAO, version),
      );
      expect(
        parse({
          type: "VOLUNTARY_EXIT",
          fork_info: forkInfo,
          voluntary_exit: { epoch: String(epoch), validator_index: "77" },
        }),
      ).toBe(
        signingRoot(
          ssz.phase0.VoluntaryExit.hashTreeRoot({ epoch, validatorIndex: 77 }),
          params.DOMAIN_VOLUNTARY_EXIT,
          version,
        ),
      );
      const blockRoot = new Uint8Array(32).fill(5);
      expect(
        parse({
          type: "SYNC_COMMITTEE_MESSAGE",
          fork_info: forkInfo,
          sync_committee_message: { beacon_block_root: hex(blockRoot), slot: String(slot) },
        }),
      ).toBe(signingRoot(blockRoot, params.DOMAIN_SYNC_COMMITTEE, version));
      expect(
        parse({
          type: "SYNC_COMMITTEE_SELECTION_PROOF",
          fork_info: forkInfo,
          sync_aggregator_selection_data: { slot: String(slot), subcommittee_index: "2" },
        }),
      ).toBe(
        signingRoot(
          ssz.altair.SyncAggregatorSelectionData.hashTreeRoot({ slot, subcommitteeIndex: 2 }),
          params.DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
          version,
        ),
      );
    });
  }

  it("VALIDATOR_REGISTRATION and DEPOSIT use the genesis fork version and a zero root", () => {
    const reg = {
      fee_recipient: hex(new Uint8Array(20).fill(3)),
      gas_limit: "30000000",
      timestamp: "1700000000",
      pubkey: hex(new Uint8Array(48).fill(4)),
    };
    const regRoot = ssz.bellatrix.ValidatorRegistrationV1.hashTreeRoot(
      ssz.bellatrix.ValidatorRegistrationV1.fromJson(reg),
    );
    expect(parse({ type: "VALIDATOR_REGISTRATION", validator_registration: reg })).toBe(
      signingRoot(regRoot, params.DOMAIN_APPLICATION_BUILDER, GENESIS_FORK, new Uint8Array(32)),
    );
    const dep = {
      pubkey: hex(new Uint8Array(48).fill(4)),
      withdrawal_credentials: hex(new Uint8Array(32).fill(1)),
      amount: "32000000000",
    };
    const depRoot = ssz.phase0.DepositMessage.hashTreeRoot(ssz.phase0.DepositMessage.fromJson(dep));
    expect(parse({ type: "DEPOSIT", deposit: { ...dep, genesis_fork_version: "0x10000910" } })).toBe(
      signingRoot(depRoot, params.DOMAIN_DEPOSIT, Uint8Array.of(0x10, 0, 0x09, 0x10), new Uint8Array(32)),
    );
  });

  it("u64 values beyond 2^53 are hashed exactly", () => {
    const big = "18446744073709551615";
    const body = (target: string) => ({
      type: "ATTESTATION",
      fork_info: forkInfo,
      attestation: {
        slot: big,
        index: "0",
        beacon_block_root: hex(new Uint8Array(32)),
        source: { epoch: "1", root: hex(new Uint8Array(32)) },
        target: { epoch: target, root: hex(new Uint8Array(32)) },
      },
    });
    expect(parse(body(big))).not.toBe(parse(body("18446744073709551614")));
    expect(parseSigningRequest(body(big), t, { genesisForkVersion: GENESIS_FORK }).protected).toEqual({
      kind: "attestation",
      source: 1n,
      target: 18446744073709551615n,
    });
  });
});
