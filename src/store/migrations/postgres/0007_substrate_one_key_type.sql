-- One public key, one key type (docs/substrate.md): protection follows the public key, so a public key
-- is filed under one key type only. Rows of one public key filed under several types (dev seeds, the
-- Insert call, two keystore files) merge into the row with the lowest id, whose key type stays: every
-- record moves there (two different records at one place become NULL, which refuses every later request
-- there, as an import does), watermarks and last values take the highest, and the key stays enabled
-- only if every row was.

CREATE TEMP TABLE sg_key_merge ON COMMIT DROP AS
  SELECT k.id AS old_id, m.keep_id AS new_id
  FROM substrate_keys k
    JOIN (SELECT public_key, min(id) AS keep_id FROM substrate_keys GROUP BY public_key HAVING count(*) > 1) m
      ON m.public_key = k.public_key
  WHERE k.id <> m.keep_id;

INSERT INTO substrate_grandpa_votes (key_id, set_id, round, stage, target_hash, target_number)
SELECT m.new_id, v.set_id, v.round, v.stage,
  CASE WHEN count(*) = count(v.target_hash) AND count(*) = count(v.target_number)
    AND count(DISTINCT v.target_hash) = 1 AND count(DISTINCT v.target_number) = 1 THEN (array_agg(v.target_hash))[1] END,
  CASE WHEN count(*) = count(v.target_hash) AND count(*) = count(v.target_number)
    AND count(DISTINCT v.target_hash) = 1 AND count(DISTINCT v.target_number) = 1 THEN min(v.target_number) END
FROM substrate_grandpa_votes v JOIN sg_key_merge m ON m.old_id = v.key_id
WHERE true
GROUP BY m.new_id, v.set_id, v.round, v.stage
ON CONFLICT (key_id, set_id, round, stage) DO UPDATE SET
  target_hash = CASE WHEN substrate_grandpa_votes.target_hash = excluded.target_hash
    AND substrate_grandpa_votes.target_number = excluded.target_number THEN substrate_grandpa_votes.target_hash END,
  target_number = CASE WHEN substrate_grandpa_votes.target_hash = excluded.target_hash
    AND substrate_grandpa_votes.target_number = excluded.target_number THEN substrate_grandpa_votes.target_number END;

INSERT INTO substrate_grandpa_proposals (key_id, set_id, round, target_hash, target_number)
SELECT DISTINCT m.new_id, p.set_id, p.round, p.target_hash, p.target_number
FROM substrate_grandpa_proposals p JOIN sg_key_merge m ON m.old_id = p.key_id
WHERE true
ON CONFLICT DO NOTHING;

INSERT INTO substrate_babe_blocks (key_id, slot, pre_hash, authority_index)
SELECT m.new_id, b.slot,
  CASE WHEN count(*) = count(b.pre_hash) AND count(DISTINCT b.pre_hash) = 1 THEN (array_agg(b.pre_hash))[1] END,
  min(b.authority_index)
FROM substrate_babe_blocks b JOIN sg_key_merge m ON m.old_id = b.key_id
WHERE true
GROUP BY m.new_id, b.slot
ON CONFLICT (key_id, slot) DO UPDATE SET
  pre_hash = CASE WHEN substrate_babe_blocks.pre_hash = excluded.pre_hash THEN substrate_babe_blocks.pre_hash END;

-- statements are bits (1 seconded, 2 valid, 4 invalid): OR-ed; sides that differ (or a NULL "both") give NULL
INSERT INTO substrate_para_votes (key_id, candidate_hash, side, statements, session)
SELECT m.new_id, p.candidate_hash,
  CASE WHEN count(*) = count(p.side) AND count(DISTINCT p.side) = 1 THEN min(p.side) END,
  max(p.statements & 1) | max(p.statements & 2) | max(p.statements & 4),
  max(p.session)
FROM substrate_para_votes p JOIN sg_key_merge m ON m.old_id = p.key_id
WHERE true
GROUP BY m.new_id, p.candidate_hash
ON CONFLICT (key_id, candidate_hash) DO UPDATE SET
  side = CASE WHEN substrate_para_votes.side = excluded.side THEN substrate_para_votes.side END,
  statements = substrate_para_votes.statements | excluded.statements,
  session = CASE WHEN substrate_para_votes.session IS NULL OR excluded.session > substrate_para_votes.session
    THEN excluded.session ELSE substrate_para_votes.session END;

INSERT INTO substrate_beefy_votes (key_id, set_id, block_number, commitment_hash)
SELECT m.new_id, v.set_id, v.block_number,
  CASE WHEN count(*) = count(v.commitment_hash) AND count(DISTINCT v.commitment_hash) = 1 THEN (array_agg(v.commitment_hash))[1] END
FROM substrate_beefy_votes v JOIN sg_key_merge m ON m.old_id = v.key_id
WHERE true
GROUP BY m.new_id, v.set_id, v.block_number
ON CONFLICT (key_id, set_id, block_number) DO UPDATE SET
  commitment_hash = CASE WHEN substrate_beefy_votes.commitment_hash = excluded.commitment_hash
    THEN substrate_beefy_votes.commitment_hash END;

-- max() ignores NULLs: the kept row takes the highest value of every row of its public key
UPDATE substrate_keys SET
  enabled = (SELECT bool_and(x.enabled) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  low_set_id = (SELECT max(x.low_set_id) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  low_slot = (SELECT max(x.low_slot) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  low_session = (SELECT max(x.low_session) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  last_set_id = (SELECT max(x.last_set_id) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  last_round = (SELECT max(x.last_round) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  last_slot = (SELECT max(x.last_slot) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key),
  last_session = (SELECT max(x.last_session) FROM substrate_keys x WHERE x.public_key = substrate_keys.public_key)
WHERE id IN (SELECT new_id FROM sg_key_merge);

DELETE FROM substrate_grandpa_votes WHERE key_id IN (SELECT old_id FROM sg_key_merge);
DELETE FROM substrate_grandpa_proposals WHERE key_id IN (SELECT old_id FROM sg_key_merge);
DELETE FROM substrate_babe_blocks WHERE key_id IN (SELECT old_id FROM sg_key_merge);
DELETE FROM substrate_para_votes WHERE key_id IN (SELECT old_id FROM sg_key_merge);
DELETE FROM substrate_beefy_votes WHERE key_id IN (SELECT old_id FROM sg_key_merge);
DELETE FROM substrate_keys WHERE id IN (SELECT old_id FROM sg_key_merge);


CREATE UNIQUE INDEX substrate_keys_one_key_type ON substrate_keys (public_key);
