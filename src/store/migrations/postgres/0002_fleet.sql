-- Fleet monitor: owners and their agent tokens, hosts and what their agents report, history, maintenance
-- windows, alerts with their audit trail, and the notification outbox. Times are unix milliseconds.

CREATE TABLE fleet_owners (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);

-- Only the SHA-256 of a token is stored; the token itself is printed once when it is created.
CREATE TABLE fleet_tokens (
  id SERIAL PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES fleet_owners(id),
  role TEXT NOT NULL CHECK (role IN ('agent', 'operator', 'admin')),
  token_hash BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  label TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE fleet_hosts (
  id SERIAL PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES fleet_owners(id),
  name TEXT NOT NULL,
  agent_version TEXT NOT NULL DEFAULT '',
  interval_ms BIGINT NOT NULL,
  first_seen_at BIGINT NOT NULL,
  last_report_at BIGINT NOT NULL,
  last_observed_at BIGINT NOT NULL,
  reports_total BIGINT NOT NULL DEFAULT 0,
  -- SHA-256 of the last report's sources and keys: an identical report only advances last_report_at.
  digest BYTEA,
  UNIQUE (owner_id, name)
);

-- One row per node source of a host (e.g. harmony:http://127.0.0.1:9500), as last reported.
CREATE TABLE fleet_host_sources (
  host_id INTEGER NOT NULL REFERENCES fleet_hosts(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  chain TEXT NOT NULL,
  reachable BOOLEAN NOT NULL,
  error TEXT,
  info TEXT NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (host_id, source)
);

-- The current inventory: one row per (host, chain, key). A key that left the host keeps its row with
-- present = false, so key_moved can see where it came from.
CREATE TABLE fleet_host_keys (
  host_id INTEGER NOT NULL REFERENCES fleet_hosts(id) ON DELETE CASCADE,
  chain TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  key_type TEXT NOT NULL,
  source TEXT NOT NULL,
  present BOOLEAN NOT NULL,
  active BOOLEAN NOT NULL,
  certainty REAL NOT NULL,
  stale BOOLEAN NOT NULL,
  signer_id TEXT,
  facts TEXT NOT NULL,
  first_seen_at BIGINT NOT NULL,
  changed_at BIGINT NOT NULL,
  active_since BIGINT,
  inactive_since BIGINT,
  PRIMARY KEY (host_id, chain, pubkey)
);
CREATE INDEX fleet_host_keys_by_key ON fleet_host_keys (owner_id, chain, pubkey);
CREATE INDEX fleet_host_keys_by_pubkey ON fleet_host_keys (owner_id, pubkey);

-- Key history as intervals: a row per state a key had on a host, open while to_at is NULL.
CREATE TABLE fleet_key_history (
  id BIGSERIAL PRIMARY KEY,
  owner_id INTEGER NOT NULL,
  host_id INTEGER NOT NULL,
  host_name TEXT NOT NULL,
  chain TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  present BOOLEAN NOT NULL,
  active BOOLEAN NOT NULL,
  stale BOOLEAN NOT NULL,
  facts TEXT NOT NULL,
  from_at BIGINT NOT NULL,
  to_at BIGINT,
  report_id BIGINT
);
CREATE INDEX fleet_key_history_by_key ON fleet_key_history (owner_id, pubkey, from_at);
CREATE INDEX fleet_key_history_open ON fleet_key_history (host_id, chain, pubkey) WHERE to_at IS NULL;

-- Every report whose content differs from the host's previous one (who, what, when).
CREATE TABLE fleet_reports (
  id BIGSERIAL PRIMARY KEY,
  host_id INTEGER NOT NULL,
  token_id INTEGER NOT NULL,
  received_at BIGINT NOT NULL,
  observed_at BIGINT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX fleet_reports_by_host ON fleet_reports (host_id, received_at);

CREATE TABLE fleet_maintenance (
  id SERIAL PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES fleet_owners(id),
  host_id INTEGER NOT NULL REFERENCES fleet_hosts(id) ON DELETE CASCADE,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  CHECK (ends_at > starts_at)
);
CREATE INDEX fleet_maintenance_by_host ON fleet_maintenance (host_id, ends_at);

-- One sweep per interval across every monitor process sharing the database.
CREATE TABLE fleet_sweeps (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_at BIGINT NOT NULL
);
INSERT INTO fleet_sweeps (id, last_at) VALUES (1, 0);

CREATE TABLE alerts (
  id BIGSERIAL PRIMARY KEY,
  owner_id INTEGER,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  chain TEXT,
  pubkey TEXT,
  hosts TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'suppressed', 'resolved')),
  confidence REAL NOT NULL,
  summary TEXT NOT NULL,
  evidence TEXT NOT NULL,
  first_seen_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  clear_since BIGINT,
  suppressed_until BIGINT,
  acknowledged_by TEXT,
  acknowledged_at BIGINT,
  resolved_by TEXT,
  resolved_at BIGINT,
  last_notified_at BIGINT
);
-- Backstop for "one alert per event": at most one unresolved alert per dedup key.
CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_by_dedup ON alerts (dedup_key, id);
CREATE INDEX alerts_by_owner ON alerts (owner_id, last_seen_at);
CREATE INDEX alerts_by_update ON alerts (updated_at);

CREATE TABLE alert_events (
  id BIGSERIAL PRIMARY KEY,
  alert_id BIGINT NOT NULL REFERENCES alerts(id),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);

-- Outbox: a notification is recorded in the transaction that decides it and delivered afterwards,
-- with retries, so a crash between the two loses nothing.
CREATE TABLE alert_notifications (
  id BIGSERIAL PRIMARY KEY,
  alert_id BIGINT,
  sink TEXT NOT NULL,
  action TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  claimed_until BIGINT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT,
  last_error TEXT
);
CREATE INDEX alert_notifications_due ON alert_notifications (state, next_at);
