-- Rights requests (services/rights): a data subject's request to exercise their GDPR rights,
-- its history, and the keys that sign its receipts. Times are Unix seconds; dates are the
-- installation's calendar dates (YYYY-MM-DD).

-- One row per request. A request filed without an account waits for its e-mail address to be
-- confirmed (state `unconfirmed`, a hashed single-use link with its expiry); it is received —
-- numbered, dated, due, its receipt signed — when the link is used. `person_id` is the data
-- subject: the signed-in requester, or the person whose address it is (none when nobody has it).
CREATE TABLE rights_request (
    id               BLOB    NOT NULL PRIMARY KEY,
    number           TEXT,
    person_id        BLOB    REFERENCES person (id),
    email            TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    rights           TEXT    NOT NULL,
    details          TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    created_at       INTEGER  NOT NULL,
    received_at      INTEGER,
    due_on           TEXT,
    extended_to      TEXT,
    extension_reason TEXT,
    assignee_id      BLOB    REFERENCES person (id),
    outcome_note     TEXT,
    refusal_ground   TEXT,
    closed_at        INTEGER,
    receipt          TEXT,
    confirm_hash     TEXT,
    confirm_expires  INTEGER,
    client_ip        TEXT,
    reminded_at      INTEGER,
    overdue_at       INTEGER,
    updated_at       INTEGER  NOT NULL
);
CREATE INDEX rights_request_due_idx ON rights_request (state, due_on);
CREATE INDEX rights_request_person_idx ON rights_request (person_id, created_at);
CREATE INDEX rights_request_email_idx ON rights_request (email, created_at);
CREATE UNIQUE INDEX rights_request_confirm_idx ON rights_request (confirm_hash);
CREATE UNIQUE INDEX rights_request_number_idx ON rights_request (number);

-- Every step of a request, in order: what happened, who did it, and a note. `internal` notes
-- are the staff's own and never shown to the requester.
CREATE TABLE rights_request_event (
    id         BLOB    NOT NULL PRIMARY KEY,
    request_id BLOB    NOT NULL REFERENCES rights_request (id),
    at         INTEGER  NOT NULL,
    actor_id   BLOB    REFERENCES person (id),
    kind       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    internal   INTEGER NOT NULL,
    note       TEXT
);
CREATE INDEX rights_request_event_idx ON rights_request_event (request_id, at);

-- Receipts are signed with keys of their own (`purpose` = 'receipt'): published with the
-- access-token keys at /.well-known/jwks.json, never accepted for access tokens, and kept
-- published after a rotation so that every receipt ever issued still verifies.
ALTER TABLE signing_key ADD COLUMN purpose TEXT NOT NULL DEFAULT 'access';
