-- CometBFT double-sign protection: per (chain id, consensus key) the last signed height/round/step with
-- its sign bytes and signature (FilePV's last sign state), so that a repeat gets the same answer.
-- The id is the advisory-lock id of the key (LockClass.CometBft).
CREATE TABLE cometbft_sign_state (
  id SERIAL PRIMARY KEY,
  chain_id TEXT NOT NULL CHECK (octet_length(chain_id) BETWEEN 1 AND 50),
  pubkey BYTEA NOT NULL CHECK (length(pubkey) = 32),
  height u64 NOT NULL,
  round INTEGER NOT NULL CHECK (round >= 0),
  step SMALLINT NOT NULL CHECK (step BETWEEN 0 AND 3),
  sign_bytes BYTEA,
  signature BYTEA CHECK (signature IS NULL OR length(signature) = 64),
  updated_at TIMESTAMPTZ NOT NULL,
  CHECK ((sign_bytes IS NULL) = (signature IS NULL)),
  UNIQUE (chain_id, pubkey)
);
