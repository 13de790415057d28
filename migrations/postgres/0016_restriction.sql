-- Restriction of processing, GDPR Art. 18 (services/directory/src/restriction.rs): while
-- `restricted_at` is set, the person's data is stored but not used — other roles see them as
-- restricted with every field masked, exports leave them out, changes by others are refused and
-- only essential mail reaches them. `restricted_by` is the privacy coordinator who placed it,
-- `restriction_reason` why (the request it answers). Lifting clears the three columns; both
-- steps are audit records (`person.restriction.place`, `person.restriction.lift`).
ALTER TABLE person ADD COLUMN restricted_at TIMESTAMPTZ;
ALTER TABLE person ADD COLUMN restricted_by UUID REFERENCES person (id);
ALTER TABLE person ADD COLUMN restriction_reason TEXT;

-- A message the sender did not deliver because its recipient's processing is restricted and
-- the mail is not essential: when, and why (the audit log holds `mail.withheld` too).
ALTER TABLE outbox ADD COLUMN withheld_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN withheld_reason TEXT;
