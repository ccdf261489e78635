-- Ethereum doppelganger protection: what must survive a restart and be seen by every signer and
-- monitor sharing this database. u64 columns hold v - 2^63 (see src/store/u64Codec.ts); times are unix ms.
--
-- detected_*: a liveness hit (or the monitor's on-chain evidence) that stands until an operator clears
-- it; every signer sharing the database refuses the key meanwhile. cleared_*: who cleared the last one.
-- held_epoch: the last epoch a slashguard signer held the key verified (the restart skip trusts the
-- previous epoch's attestation only when it was signed here, never one imported from another client).
CREATE TABLE eth_doppelganger (
  validator_id INTEGER PRIMARY KEY REFERENCES eth_validators(id),
  detected_epoch INTEGER,
  detected_at INTEGER,
  detected_by TEXT,
  detail TEXT,
  cleared_by TEXT,
  cleared_at INTEGER,
  held_epoch INTEGER,
  CHECK ((detected_at IS NULL) = (detected_epoch IS NULL))
);
CREATE INDEX eth_doppelganger_detected ON eth_doppelganger (validator_id) WHERE detected_at IS NOT NULL;
