-- Substrate / Polkadot slashing protection (GRANDPA votes, BABE seals, parachain dispute votes, BEEFY votes).
-- u64 columns use the u64 domain of 0001 (NUMERIC(20) with a range check).

-- One row per (key type, public key). low_* are watermarks (nothing below is signed: history there was
-- pruned or imported); last_* are the highest values signed, for status output. GRANDPA and BEEFY keys
-- use the set columns (BEEFY: validator set id, and last_round holds its block number).
CREATE TABLE substrate_keys (
  id SERIAL PRIMARY KEY,
  key_type TEXT NOT NULL CHECK (length(key_type) = 4),
  public_key BYTEA NOT NULL CHECK (length(public_key) IN (32, 33)),
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  low_set_id u64,
  low_slot u64,
  low_session u64,
  last_set_id u64,
  last_round u64,
  last_slot u64,
  last_session u64,
  UNIQUE (key_type, public_key)
);

-- stage 0 prevote, 1 precommit: one target per (set, round, stage). A NULL target (two different votes
-- met in an import) equals nothing, so every later request there is refused.
CREATE TABLE substrate_grandpa_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id u64 NOT NULL,
  round u64 NOT NULL,
  stage SMALLINT NOT NULL CHECK (stage IN (0, 1)),
  target_hash BYTEA CHECK (target_hash IS NULL OR length(target_hash) = 32),
  target_number u64,
  PRIMARY KEY (key_id, set_id, round, stage)
);

-- Primary proposals cannot be equivocated on (no proof exists): recorded as history only.
CREATE TABLE substrate_grandpa_proposals (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id u64 NOT NULL,
  round u64 NOT NULL,
  target_hash BYTEA NOT NULL CHECK (length(target_hash) = 32),
  target_number u64 NOT NULL,
  PRIMARY KEY (key_id, set_id, round, target_hash, target_number)
);

-- One header per (key, slot). A NULL pre_hash equals nothing.
CREATE TABLE substrate_babe_blocks (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  slot u64 NOT NULL,
  pre_hash BYTEA CHECK (pre_hash IS NULL OR length(pre_hash) = 32),
  authority_index BIGINT,
  PRIMARY KEY (key_id, slot)
);

-- One side per (key, candidate): 1 valid (seconded, backing, approval, dispute vote for), 0 invalid,
-- NULL both (met in an import: every later vote on it is refused). statements: bit 1 seconded, 2 valid, 4 invalid.
CREATE TABLE substrate_para_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  candidate_hash BYTEA NOT NULL CHECK (length(candidate_hash) = 32),
  side SMALLINT CHECK (side IS NULL OR side IN (0, 1)),
  statements SMALLINT NOT NULL,
  session u64,
  PRIMARY KEY (key_id, candidate_hash)
);

CREATE INDEX substrate_para_votes_session ON substrate_para_votes (key_id, session);

-- One commitment (keccak_256 hash) per (key, validator set id, block number). A NULL hash equals nothing.
CREATE TABLE substrate_beefy_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id u64 NOT NULL,
  block_number u64 NOT NULL,
  commitment_hash BYTEA CHECK (commitment_hash IS NULL OR length(commitment_hash) = 32),
  PRIMARY KEY (key_id, set_id, block_number)
);
