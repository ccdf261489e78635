-- Outbox of events for the message bus (slashguard signer --events, docs/events.md). A decision's event is
-- inserted in the same transaction as its protection record, so the bus sees every decision that was
-- committed and none that was not. The publisher reads rows in seq order, publishes them (msg_id is the
-- JetStream de-duplication id) and deletes them. AUTOINCREMENT: a seq is never reused.

CREATE TABLE event_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  msg_id TEXT NOT NULL, -- a random UUID; no index: the publisher reads by seq and JetStream de-duplicates
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
