/**
 * A condition a key must meet before anything is signed with it (for example the doppelganger guard).
 * Declared here, low, so that detection code can implement it and the signer can call it without
 * either importing the other.
 */
export interface SigningGate {
  /**
   * Throws a typed error when `pubkey` (lower-case 0x-hex) may not sign a message of this kind now
   * (`kind`: the chain's name for it, e.g. the Ethereum signing type "ATTESTATION").
   */
  assertMaySign(pubkey: string, kind: string): void;
}
