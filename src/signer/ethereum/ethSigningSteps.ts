import type { EthNetwork } from "../../chains/ethereum/networks.js";
import { ProtectionErrorCode, SlashingProtectionError } from "../../chains/ethereum/protectionErrors.js";
import type { SigningRequest } from "../../chains/ethereum/signingRequest.js";
import type { EthereumProtection } from "../../protection/ethereum/ethereumProtection.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import type { SigningGate } from "../../util/signingGate.js";

/**
 * The steps before an Ethereum signature, the same for a whole key and for a threshold share: the
 * request's genesis root, the signing gates (doppelganger, enabled), then this process's slashing
 * protection, committed before anything is signed.
 */
export async function checkAndRecordEth(
  m: { network: EthNetwork; gates?: SigningGate[]; protection: EthereumProtection },
  key: { pubkey: Uint8Array; pubkeyHex: string },
  request: SigningRequest,
): Promise<void> {
  const gvr = request.forkInfo?.genesisValidatorsRoot;
  if (gvr !== undefined && !bytesEqual(gvr, m.network.genesisValidatorsRoot)) {
    throw new SlashingProtectionError({
      code: ProtectionErrorCode.GenesisMismatch,
      expected: toHex(m.network.genesisValidatorsRoot),
      given: toHex(gvr),
    });
  }
  for (const g of m.gates ?? []) g.assertMaySign(key.pubkeyHex, request.type);
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
