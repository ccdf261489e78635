-- CometBFT double-sign protection: per (chain id, consensus key) the last signed height/round/step with
-- its sign bytes and signature (FilePV's last sign state), so that a repeat gets the same answer.
-- height holds v - 2^63 (see src/store/u64Codec.ts). The id is the advisory-lock id of the key.
CREATE TABLE cometbft_sign_state (
  id INTEGER PRIMARY KEY,
  chain_id TEXT NOT NULL CHECK (length(chain_id) BETWEEN 1 AND 50),
  pubkey BLOB NOT NULL CHECK (length(pubkey) = 32),
  height INTEGER NOT NULL,
  round INTEGER NOT NULL CHECK (round BETWEEN 0 AND 2147483647),
  step INTEGER NOT NULL CHECK (step BETWEEN 0 AND 3),
  sign_bytes BLOB,
  signature BLOB CHECK (signature IS NULL OR length(signature) = 64),
  updated_at TEXT NOT NULL,
  CHECK ((sign_bytes IS NULL) = (signature IS NULL)),
  UNIQUE (chain_id, pubkey)
);
