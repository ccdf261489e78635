import type { SubstrateRecord } from "../../chains/substrate/index.js";

/** One signing request as protection sees it: the key and what signing commits it to. */
export interface SubstrateProtectionRequest {
  keyType: string;
  publicKey: Uint8Array;
  /** From classifySignRequest; never empty (requests about nothing slashable skip protection). */
  records: SubstrateRecord[];
}

/** new: records were written; repeat: identical data was signed before and may be signed again. */
export type SubstrateOutcome = "new" | "repeat";
