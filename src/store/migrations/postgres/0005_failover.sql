-- Failover lease (slashguard failover): one row per lease name. The epoch is the fencing token: every grant
-- takes epoch + 1, renewals and releases name the epoch they hold. Times are milliseconds of the database's
-- clock (clock_timestamp()), so hosts with skewed clocks agree on expiry.

CREATE TABLE failover_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch u64 NOT NULL,
  acquired_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  ttl_ms INTEGER NOT NULL CHECK (ttl_ms > 0),
  stop_timeout_ms INTEGER NOT NULL CHECK (stop_timeout_ms >= 0),
  released BOOLEAN NOT NULL DEFAULT FALSE,
  holder_stopped BOOLEAN NOT NULL DEFAULT FALSE,
  handover_to TEXT
);

-- Backstop for the code: an update that touches the epoch must raise it.
CREATE FUNCTION failover_lease_epoch_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.epoch <= OLD.epoch THEN
    RAISE EXCEPTION 'failover lease epoch must grow' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER failover_lease_epoch_grows BEFORE UPDATE OF epoch ON failover_lease
  FOR EACH ROW EXECUTE FUNCTION failover_lease_epoch_grows();

-- Every grant, for audit; the primary key makes granting one epoch twice impossible.
CREATE TABLE failover_epochs (
  name TEXT NOT NULL,
  epoch u64 NOT NULL,
  holder TEXT NOT NULL,
  previous_holder TEXT,
  acquired_at_ms BIGINT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (name, epoch)
);
