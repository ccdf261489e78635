-- PostgreSQL's 0015 adds a change token for cached Ethereum key settings; SQLite's store already has
-- one (PRAGMA data_version with the connection's own change count), so nothing changes here.
SELECT 1;
