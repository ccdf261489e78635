-- Event outbox rows that carry several events (issue 19, latency): a signing transaction writes one row
-- for its whole batch with the decisions' bare facts (JSON), and the publisher builds each event's subject,
-- id and payload off the signing path. `events` = how many events the row holds; 0 marks a row of 0011's
-- form (one ready event: subject and payload as published).

ALTER TABLE event_outbox ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
