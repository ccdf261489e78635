-- Bounded fleet history: a host whose key set churns must not grow the database without bound.
-- changes: how many recorded states one interval stands for (> 1 once old intervals were merged; the
-- merged interval is present/active/stale if any of its states was).
ALTER TABLE fleet_key_history ADD COLUMN changes INTEGER NOT NULL DEFAULT 1;
-- Intervals recorded per (host, chain, key): ingestion merges the oldest ones past the configured cap.
ALTER TABLE fleet_host_keys ADD COLUMN history_count INTEGER NOT NULL DEFAULT 0;
UPDATE fleet_host_keys k SET history_count = (
  SELECT count(*) FROM fleet_key_history h
  WHERE h.owner_id = k.owner_id AND h.pubkey = k.pubkey AND h.host_id = k.host_id AND h.chain = k.chain);
-- Retention deletes closed intervals by age.
CREATE INDEX fleet_key_history_closed ON fleet_key_history (to_at) WHERE to_at IS NOT NULL;
