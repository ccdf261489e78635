-- Ethereum slashing protection (EIP-3076, complete strategy with low watermarks).
-- u64 columns are NUMERIC(20) with a range check.

CREATE DOMAIN u64 AS NUMERIC(20, 0) CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);

-- The one genesis validators root this database is bound to.
CREATE TABLE eth_metadata (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  genesis_validators_root BYTEA NOT NULL CHECK (length(genesis_validators_root) = 32)
);

CREATE TABLE eth_validators (
  id SERIAL PRIMARY KEY,
  pubkey BYTEA NOT NULL UNIQUE CHECK (length(pubkey) = 48),
  enabled BOOLEAN NOT NULL DEFAULT TRUE
);

-- Per validator: the low watermarks (nothing below is signed; at them only a repeat). The highest slot,
-- target and source come from the records themselves (index lookups), so signing writes one row.
CREATE TABLE eth_block_state (
  validator_id INTEGER PRIMARY KEY REFERENCES eth_validators(id),
  low_slot u64
);

-- import_max_source: the highest source of any record when the key was last imported. Signing never
-- stores a record with a higher source than a record of higher target (that pair would be a surround),
-- so max(import_max_source, source at the highest target) bounds every stored source.
CREATE TABLE eth_attestation_state (
  validator_id INTEGER PRIMARY KEY REFERENCES eth_validators(id),
  low_source u64,
  low_target u64,
  import_max_source u64
);

-- A NULL signing_root means "unknown" and never equals any root.
-- The signed_* tables carry no foreign key: ids come only from eth_validators, whose rows are never
-- deleted, and a per-row parent lookup would double the cost of recording a signature.
CREATE TABLE eth_signed_blocks (
  validator_id INTEGER NOT NULL,
  slot u64 NOT NULL,
  signing_root BYTEA CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, slot)
);

-- extra = true marks a second record at one target that came from an import (kept for surround checks);
-- signing only ever inserts extra = false, and at most one such row exists per target.
CREATE TABLE eth_signed_attestations (
  validator_id INTEGER NOT NULL,
  target_epoch u64 NOT NULL,
  source_epoch u64 NOT NULL,
  signing_root BYTEA CHECK (signing_root IS NULL OR length(signing_root) = 32),
  extra BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (validator_id, target_epoch, source_epoch)
);

CREATE UNIQUE INDEX eth_signed_attestations_one_per_target
  ON eth_signed_attestations (validator_id, target_epoch) WHERE NOT extra;
