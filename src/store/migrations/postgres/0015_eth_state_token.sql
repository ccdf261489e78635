-- A change token for the Ethereum key settings a decision reads besides the records themselves
-- (eth_validators.enabled, the low watermarks and import_max_source): every statement that writes one
-- of those tables draws a new random token, in its own transaction. A signer caches those settings per key
-- with the token it read them under, and reads them again only when the token in its snapshot differs
-- (issue 20: one index probe per key instead of three). Random, not a counter: after a failover that lost
-- a change, a counter could return to a value a cache holds for other contents; a random token does not.
-- New keys (INSERT into eth_validators) change nothing a cache holds, so they draw no token.

CREATE TABLE eth_state_token (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  token UUID NOT NULL
);
INSERT INTO eth_state_token (id, token) VALUES (1, gen_random_uuid());

CREATE FUNCTION eth_state_token_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- an upsert: a table emptied by hand gets its row back (without one, signers cache nothing)
  INSERT INTO eth_state_token (id, token) VALUES (1, gen_random_uuid())
    ON CONFLICT (id) DO UPDATE SET token = excluded.token;
  RETURN NULL;
END $$;

CREATE TRIGGER eth_attestation_state_token AFTER INSERT OR UPDATE OR DELETE ON eth_attestation_state
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
CREATE TRIGGER eth_attestation_state_token_truncate AFTER TRUNCATE ON eth_attestation_state
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
CREATE TRIGGER eth_block_state_token AFTER INSERT OR UPDATE OR DELETE ON eth_block_state
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
CREATE TRIGGER eth_block_state_token_truncate AFTER TRUNCATE ON eth_block_state
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
CREATE TRIGGER eth_validators_token AFTER UPDATE OR DELETE ON eth_validators
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
CREATE TRIGGER eth_validators_token_truncate AFTER TRUNCATE ON eth_validators
  FOR EACH STATEMENT EXECUTE FUNCTION eth_state_token_bump();
