-- The yearly "is your data still correct?" mail (services/identity/src/confirmation.rs): when
-- the person last confirmed their data (the button on their account page, or saving their
-- profile), and when the mail last asked them to. Times are TEXT like the others of `person`.
ALTER TABLE person ADD COLUMN data_confirmed_at TEXT;
ALTER TABLE person ADD COLUMN confirmation_requested_at TEXT;
