-- Which checkpoint was mailed to the privacy coordinator for which period (services/audit/src/
-- checkpoint.rs): `mail_slot` is the period's number (Unix time ÷ `audit.checkpoint_mail_secs`).
-- UNIQUE, so that of several instances signing checkpoints in the same period, one mails.
ALTER TABLE audit_checkpoint ADD COLUMN mail_slot BIGINT;
CREATE UNIQUE INDEX audit_checkpoint_mail_slot_idx ON audit_checkpoint (mail_slot);
