-- Bounded fleet history (SQLite dialect of postgres/0008_fleet_history_bounds.sql): a host whose key set
-- churns must not grow the database without bound.
-- changes: how many recorded states one interval stands for (> 1 once old intervals were merged; the
-- merged interval is present/active/stale if any of its states was).
ALTER TABLE fleet_key_history ADD COLUMN changes INTEGER NOT NULL DEFAULT 1;
-- Intervals recorded per (host, chain, key): ingestion merges the oldest ones past the configured cap.
ALTER TABLE fleet_host_keys ADD COLUMN history_count INTEGER NOT NULL DEFAULT 0;
UPDATE fleet_host_keys SET history_count = (
  SELECT count(*) FROM fleet_key_history h
  WHERE h.owner_id = fleet_host_keys.owner_id AND h.pubkey = fleet_host_keys.pubkey
    AND h.host_id = fleet_host_keys.host_id AND h.chain = fleet_host_keys.chain);
-- Retention deletes closed intervals by age.
CREATE INDEX fleet_key_history_closed ON fleet_key_history (to_at) WHERE to_at IS NOT NULL;
