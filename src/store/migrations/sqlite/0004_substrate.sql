-- Substrate / Polkadot slashing protection (GRANDPA votes, BABE seals, parachain dispute votes, BEEFY votes).
-- u64 columns hold v - 2^63 so the full unsigned range keeps its order (see src/store/u64Codec.ts).

-- One row per (key type, public key). low_* are watermarks (nothing below is signed: history there was
-- pruned or imported); last_* are the highest values signed, for status output. GRANDPA and BEEFY keys
-- use the set columns (BEEFY: validator set id, and last_round holds its block number).
CREATE TABLE substrate_keys (
  id INTEGER PRIMARY KEY,
  key_type TEXT NOT NULL CHECK (length(key_type) = 4),
  public_key BLOB NOT NULL CHECK (length(public_key) IN (32, 33)),
  enabled INTEGER NOT NULL DEFAULT 1,
  low_set_id INTEGER,
  low_slot INTEGER,
  low_session INTEGER,
  last_set_id INTEGER,
  last_round INTEGER,
  last_slot INTEGER,
  last_session INTEGER,
  UNIQUE (key_type, public_key)
);

-- stage 0 prevote, 1 precommit: one target per (set, round, stage). A NULL target (two different votes
-- met in an import) equals nothing, so every later request there is refused.
CREATE TABLE substrate_grandpa_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id INTEGER NOT NULL,
  round INTEGER NOT NULL,
  stage INTEGER NOT NULL CHECK (stage IN (0, 1)),
  target_hash BLOB CHECK (target_hash IS NULL OR length(target_hash) = 32),
  target_number INTEGER,
  PRIMARY KEY (key_id, set_id, round, stage)
) WITHOUT ROWID;

-- Primary proposals cannot be equivocated on (no proof exists): recorded as history only.
CREATE TABLE substrate_grandpa_proposals (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id INTEGER NOT NULL,
  round INTEGER NOT NULL,
  target_hash BLOB NOT NULL CHECK (length(target_hash) = 32),
  target_number INTEGER NOT NULL,
  PRIMARY KEY (key_id, set_id, round, target_hash, target_number)
) WITHOUT ROWID;

-- One header per (key, slot). A NULL pre_hash equals nothing.
CREATE TABLE substrate_babe_blocks (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  slot INTEGER NOT NULL,
  pre_hash BLOB CHECK (pre_hash IS NULL OR length(pre_hash) = 32),
  authority_index INTEGER,
  PRIMARY KEY (key_id, slot)
) WITHOUT ROWID;

-- One side per (key, candidate): 1 valid (seconded, backing, approval, dispute vote for), 0 invalid,
-- NULL both (met in an import: every later vote on it is refused). statements: bit 1 seconded, 2 valid, 4 invalid.
CREATE TABLE substrate_para_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  candidate_hash BLOB NOT NULL CHECK (length(candidate_hash) = 32),
  side INTEGER CHECK (side IS NULL OR side IN (0, 1)),
  statements INTEGER NOT NULL,
  session INTEGER,
  PRIMARY KEY (key_id, candidate_hash)
) WITHOUT ROWID;

CREATE INDEX substrate_para_votes_session ON substrate_para_votes (key_id, session);

-- One commitment (keccak_256 hash) per (key, validator set id, block number). A NULL hash equals nothing.
CREATE TABLE substrate_beefy_votes (
  key_id INTEGER NOT NULL REFERENCES substrate_keys(id),
  set_id INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  commitment_hash BLOB CHECK (commitment_hash IS NULL OR length(commitment_hash) = 32),
  PRIMARY KEY (key_id, set_id, block_number)
) WITHOUT ROWID;
