/** Per-key row of substrate_keys: watermarks (low_*) and the highest values signed (last_*). */
export interface SubstrateKeyState {
  id: number;
  enabled: boolean;
  lowSetId: bigint | null;
  lowSlot: bigint | null;
  lowSession: bigint | null;
  lastSetId: bigint | null;
  lastRound: bigint | null;
  lastSlot: bigint | null;
  lastSession: bigint | null;
}

export interface GrandpaVoteRow {
  id: number;
  setId: bigint;
  round: bigint;
  stage: number;
  targetHash: Uint8Array | null;
  targetNumber: bigint | null;
}

export interface GrandpaProposalRow {
  id: number;
  setId: bigint;
  round: bigint;
  targetHash: Uint8Array;
  targetNumber: bigint;
}

export interface BabeBlockRow {
  id: number;
  slot: bigint;
  preHash: Uint8Array | null;
  authorityIndex: number | null;
}

/** side: 1 valid, 0 invalid, null both; statements: bit 1 seconded, 2 valid, 4 invalid. */
export interface ParaVoteRow {
  id: number;
  candidateHash: Uint8Array;
  side: 0 | 1 | null;
  statements: number;
  session: bigint | null;
}

export interface BeefyVoteRow {
  id: number;
  setId: bigint;
  blockNumber: bigint;
  commitmentHash: Uint8Array | null;
}

export interface KeyLasts {
  id: number;
  lastSetId: bigint | null;
  lastRound: bigint | null;
  lastSlot: bigint | null;
  lastSession: bigint | null;
}

export const PARA_STATEMENT_BITS = { seconded: 1, valid: 2, invalid: 4 } as const;
