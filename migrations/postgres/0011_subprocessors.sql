-- Subprocessors (issue 15): the register with its history, change notices with a notice period,
-- clients' objections and their decisions, and who wants the notices by mail.
-- Times that are compared (a notice's effective time, a change's time) are Unix seconds.

-- The register as it stands now. Every change also writes a `subprocessor_change` row holding
-- the whole entry after the change, so the list as it stood on any date can be rebuilt.
CREATE TABLE subprocessor (
    id                  UUID    NOT NULL PRIMARY KEY,
    legal_name          TEXT    NOT NULL,
    registration_number TEXT    NOT NULL,
    website             TEXT    NOT NULL,
    service             TEXT    NOT NULL,
    data_categories     TEXT    NOT NULL,   -- JSON array of codes (policies/data_categories.csv)
    subject_categories  TEXT    NOT NULL,   -- JSON array of codes
    locations           TEXT    NOT NULL,   -- JSON array of {country, mechanism}
    agreement_date      TEXT,               -- ISO date of the processing agreement
    state               TEXT    NOT NULL,   -- announced, active, retired
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE subprocessor_change (
    id              UUID    NOT NULL PRIMARY KEY,
    subprocessor_id UUID    NOT NULL REFERENCES subprocessor (id),
    at              BIGINT NOT NULL,
    kind            TEXT    NOT NULL,   -- announced, activated, changed, retired, withdrawn, excluded
    notice_id       UUID,
    organisation_id UUID,               -- for `excluded`: the company the entry no longer serves
    entry           TEXT    NOT NULL    -- JSON: the whole entry after the change
);
CREATE INDEX subprocessor_change_entry_idx ON subprocessor_change (subprocessor_id, at);
CREATE INDEX subprocessor_change_at_idx ON subprocessor_change (at);

-- A planned change of the register. Drafts are edited freely; a published notice only withdrawn
-- (before its effective time) or applied (once, by the job, at its effective time).
CREATE TABLE subprocessor_notice (
    id              UUID    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL,   -- add, replace, remove, change
    subprocessor_id UUID,               -- the entry changed, removed or replaced
    new_entry_id    UUID,               -- add, replace: the entry announced at publication
    proposal        TEXT    NOT NULL,   -- JSON: the entry as it will be (add, replace, change)
    summary         TEXT    NOT NULL,   -- plain text: what changes and why
    effective_at    BIGINT  NOT NULL,   -- the window to object closes then
    state           TEXT    NOT NULL,   -- draft, published, withdrawn, applied
    created_by      UUID    NOT NULL,
    created_at      BIGINT NOT NULL,
    published_at    BIGINT,
    withdrawn_at    BIGINT,
    withdrawal_reason TEXT,
    applied_at      BIGINT
);
CREATE INDEX subprocessor_notice_due_idx ON subprocessor_notice (state, effective_at);

CREATE TABLE subprocessor_objection (
    id              UUID    NOT NULL PRIMARY KEY,
    notice_id       UUID    NOT NULL REFERENCES subprocessor_notice (id),
    organisation_id UUID    NOT NULL REFERENCES organisation (id),
    author_id       UUID    NOT NULL REFERENCES person (id),
    reasons         TEXT    NOT NULL,   -- HTML, cleaned by ammonia to the allow-list
    state           TEXT    NOT NULL,   -- open, withdrawn, upheld, rejected, settled
    outcome         TEXT,               -- upheld: withdraw_notice or exclude
    decision_note   TEXT,               -- the justification (rejected) or note (upheld, settled)
    decided_by      UUID,
    decided_at      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- One open objection per company and notice.
CREATE UNIQUE INDEX subprocessor_objection_open_idx
    ON subprocessor_objection (notice_id, organisation_id) WHERE state = 'open';
CREATE INDEX subprocessor_objection_org_idx ON subprocessor_objection (organisation_id, created_at);

-- A company an upheld objection took out of an entry: the entry does not process its data.
CREATE TABLE subprocessor_exclusion (
    subprocessor_id UUID    NOT NULL REFERENCES subprocessor (id),
    organisation_id UUID    NOT NULL REFERENCES organisation (id),
    objection_id    UUID    NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (subprocessor_id, organisation_id)
);

-- Whether a person wants the notices by mail. No row: primary contacts do, others do not.
CREATE TABLE subprocessor_subscription (
    person_id  UUID    NOT NULL PRIMARY KEY REFERENCES person (id),
    wants_mail BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
