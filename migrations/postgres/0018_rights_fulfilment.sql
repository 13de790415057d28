-- Rights carried out (services/rights/src/fulfil.rs): what the system did for each right a
-- request names — the report generated, what an erasure erased and kept and on which ground,
-- the restriction placed, the consents withdrawn, the corrections accepted or refused — as
-- JSON on the history line that records it. A rectification request carries the values the
-- requester proposes, field by field (JSON: field → value).
ALTER TABLE rights_request_event ADD COLUMN detail TEXT;
ALTER TABLE rights_request ADD COLUMN proposals TEXT;
