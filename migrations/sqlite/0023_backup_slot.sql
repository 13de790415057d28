-- Scheduled backups (`backup.every_secs`): one row per period, claimed by the one instance
-- that makes that period's backup (several instances share the database).
CREATE TABLE backup_slot (
    slot       INTEGER NOT NULL PRIMARY KEY,  -- Unix seconds / backup.every_secs
    claimed_at INTEGER NOT NULL               -- Unix seconds
);
