-- Failover lease (slashguard failover): one row per lease name. The epoch is the fencing token: every grant
-- takes epoch + 1, renewals and releases name the epoch they hold. Times are milliseconds of the store's clock.
-- epoch is a u64 stored as v - 2^63 (see store/u64Codec.ts).

CREATE TABLE failover_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  acquired_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL CHECK (ttl_ms > 0),
  stop_timeout_ms INTEGER NOT NULL CHECK (stop_timeout_ms >= 0),
  released INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1)),
  holder_stopped INTEGER NOT NULL DEFAULT 0 CHECK (holder_stopped IN (0, 1)),
  handover_to TEXT
);

-- Backstop for the code: an update that touches the epoch must raise it.
CREATE TRIGGER failover_lease_epoch_grows BEFORE UPDATE OF epoch ON failover_lease
WHEN NEW.epoch <= OLD.epoch
BEGIN
  SELECT RAISE(ABORT, 'failover lease epoch must grow');
END;

-- Every grant, for audit; the primary key makes granting one epoch twice impossible.
CREATE TABLE failover_epochs (
  name TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  holder TEXT NOT NULL,
  previous_holder TEXT,
  acquired_at_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (name, epoch)
);
