/**
 * A condition a key must meet before anything is signed with it (for example the doppelganger guard).
 * Declared here, low, so that detection code can implement it and the signer can call it without
 * either importing the other.
 */
export interface SigningGate {
  /** Throws a typed error when `pubkey` (lower-case 0x-hex) may not sign now. */
  assertMaySign(pubkey: string): void;
}
