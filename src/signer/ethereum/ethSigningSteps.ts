import type { EthNetwork, SigningRequest } from "../../chains/ethereum/index.js";
import { ProtectionErrorCode, SlashingProtectionError } from "../../chains/ethereum/index.js";
import type { EthereumProtection } from "../../protection/index.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import type { SigningGate } from "../../util/signingGate.js";

type EthStepModules = { network: EthNetwork; gates?: SigningGate[]; protection: EthereumProtection };
type EthStepKey = { pubkey: Uint8Array; pubkeyHex: string };

/**
 * The steps before an Ethereum signature, the same for a whole key and for a threshold share: the
 * gates (the request's genesis root, doppelganger, enabled), then protect (this process's slashing
 * protection, committed before anything is signed).
 */
export async function checkAndRecordEth(m: EthStepModules, key: EthStepKey, request: SigningRequest): Promise<void> {
  ethGates(m, key, request);
  await ethProtect(m, key, request);
}

/** Step "gates": the request is for this network, and every signing gate lets the key sign. */
export function ethGates(m: EthStepModules, key: EthStepKey, request: SigningRequest): void {
  const gvr = request.forkInfo?.genesisValidatorsRoot;
  if (gvr !== undefined && !bytesEqual(gvr, m.network.genesisValidatorsRoot)) {
    throw new SlashingProtectionError({
      code: ProtectionErrorCode.GenesisMismatch,
      expected: toHex(m.network.genesisValidatorsRoot),
      given: toHex(gvr),
    });
  }
  for (const g of m.gates ?? []) g.assertMaySign(key.pubkeyHex, request.type);
}

/** Step "protect": blocks and attestations are recorded (committed) before they are signed; others pass. */
export async function ethProtect(m: EthStepModules, key: EthStepKey, request: SigningRequest): Promise<void> {
  const p = request.protected;
  if (p === null) return;
  await m.protection.checkAndRecord(
    p.kind === "block"
      ? { kind: "block", pubkey: key.pubkey, slot: p.slot, signingRoot: request.signingRoot }
      : {
          kind: "attestation",
          pubkey: key.pubkey,
          source: p.source,
          target: p.target,
          signingRoot: request.signingRoot,
        },
  );
}

/** The slashing-relevant numbers of a request and its epoch, for the "Signed" log line. */
export function protectedFields(request: SigningRequest): Record<string, bigint> {
  const p = request.protected;
  return {
    ...(p?.kind === "block"
      ? { slot: p.slot }
      : p?.kind === "attestation"
        ? { source: p.source, target: p.target }
        : {}),
    ...(request.epoch !== null ? { epoch: request.epoch } : {}),
  };
}
