-- Ethereum slashing protection (EIP-3076, complete strategy with low watermarks).
-- u64 columns hold v - 2^63 so the full unsigned range keeps its order (see src/store/u64Codec.ts).

-- The one genesis validators root this database is bound to.
CREATE TABLE eth_metadata (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  genesis_validators_root BLOB NOT NULL CHECK (length(genesis_validators_root) = 32)
);

CREATE TABLE eth_validators (
  id INTEGER PRIMARY KEY,
  pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 48),
  enabled INTEGER NOT NULL DEFAULT 1
);

-- Per validator: the low watermarks (nothing below is signed; at them only a repeat). The highest slot,
-- target and source come from the records themselves (index lookups), so signing writes one row.
CREATE TABLE eth_block_state (
  validator_id INTEGER PRIMARY KEY REFERENCES eth_validators(id),
  low_slot INTEGER
);

-- import_max_source: the highest source of any record when the key was last imported. Signing never
-- stores a record with a higher source than a record of higher target (that pair would be a surround),
-- so max(import_max_source, source at the highest target) bounds every stored source.
CREATE TABLE eth_attestation_state (
  validator_id INTEGER PRIMARY KEY REFERENCES eth_validators(id),
  low_source INTEGER,
  low_target INTEGER,
  import_max_source INTEGER
);

-- A NULL signing_root means "unknown" and never equals any root.
-- The signed_* tables carry no foreign key: ids come only from eth_validators, whose rows are never
-- deleted, and a per-row parent lookup would double the cost of recording a signature.
CREATE TABLE eth_signed_blocks (
  validator_id INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, slot)
) WITHOUT ROWID;

-- extra = 1 marks a second record at one target that came from an import (kept for surround checks);
-- signing only ever inserts extra = 0, and at most one such row exists per target.
CREATE TABLE eth_signed_attestations (
  validator_id INTEGER NOT NULL,
  target_epoch INTEGER NOT NULL,
  source_epoch INTEGER NOT NULL,
  signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32),
  extra INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (validator_id, target_epoch, source_epoch)
) WITHOUT ROWID;

CREATE UNIQUE INDEX eth_signed_attestations_one_per_target
  ON eth_signed_attestations (validator_id, target_epoch) WHERE extra = 0;
