/** Rows of the Ethereum protection tables, in domain form (u64 as bigint, roots as bytes or null). */
export interface StoredBlock {
  slot: bigint;
  signingRoot: Uint8Array | null;
}

export interface StoredAttestation {
  source: bigint;
  target: bigint;
  signingRoot: Uint8Array | null;
}

export interface BlockStateRow {
  enabled: boolean;
  lowSlot: bigint | null;
  maxSlot: bigint | null;
}

export interface AttestationStateRow {
  enabled: boolean;
  lowSource: bigint | null;
  lowTarget: bigint | null;
  maxSource: bigint | null;
  maxTarget: bigint | null;
}

export interface BlockHistoryQuery {
  id: number;
  slots: bigint[];
}

/** Every record with target >= minTarget or source > minSource (all that can conflict with the requests). */
export interface AttestationHistoryQuery {
  id: number;
  minTarget: bigint;
  minSource: bigint;
}

export type NewBlock = { id: number } & StoredBlock;
export type NewAttestation = { id: number } & StoredAttestation;
export interface BlockStateValue {
  lowSlot: bigint | null;
  maxSlot: bigint | null;
}

export interface AttestationStateValue {
  lowSource: bigint | null;
  lowTarget: bigint | null;
  maxSource: bigint | null;
  maxTarget: bigint | null;
}

/** A key's state after a batch; `persist` when its low watermarks changed (the only stored part). */
export interface StateChange<S> {
  id: number;
  state: S;
  persist: boolean;
}
