/** EIP-3076 interchange format, version 5: the JSON wire types (snake_case, u64 as decimal strings). */
export interface InterchangeV5 {
  metadata: {
    /** Always "5". */
    interchange_format_version: string;
    /** 0x-hex, 32 bytes: identifies the chain. */
    genesis_validators_root: string;
  };
  data: InterchangeV5Entry[];
}

export interface InterchangeV5Entry {
  /** 0x-hex BLS public key, 48 bytes. */
  pubkey: string;
  signed_blocks: { slot: string; signing_root?: string }[];
  signed_attestations: { source_epoch: string; target_epoch: string; signing_root?: string }[];
}

export const INTERCHANGE_FORMAT_VERSION = "5";

/** Domain form of the metadata, after parsing. */
export interface InterchangeMetadata {
  version: string;
  genesisValidatorsRoot: Uint8Array;
}
