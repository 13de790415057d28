-- Organisations, people and their credentials; sessions and signing keys; one-time links;
-- login throttling; the e-mail outbox.

CREATE TABLE organisation (
    id                UUID    NOT NULL PRIMARY KEY,
    kind              TEXT    NOT NULL,  -- certification_body | client | rental
    name              TEXT    NOT NULL,
    enterprise_number TEXT,
    vat_number        TEXT,
    addresses         TEXT    NOT NULL,  -- JSON array of postal addresses
    phone             TEXT,
    fax               TEXT,
    sector            TEXT,
    active            BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ    NOT NULL,
    updated_at        TIMESTAMPTZ    NOT NULL
);
CREATE UNIQUE INDEX organisation_enterprise_number_idx ON organisation (enterprise_number);

CREATE TABLE person (
    id                   UUID    NOT NULL PRIMARY KEY,
    organisation_id      UUID    NOT NULL REFERENCES organisation (id),
    surname              TEXT    NOT NULL,
    first_name           TEXT    NOT NULL,
    email                TEXT    NOT NULL,
    email_normalized     TEXT    NOT NULL,
    phone                TEXT,
    mobile               TEXT,
    fax                  TEXT,
    function             TEXT,
    gender               TEXT    NOT NULL,
    language             TEXT    NOT NULL,
    training_valid_until DATE,
    birth_date           DATE,
    licence_plate        TEXT,
    state                TEXT    NOT NULL,  -- invited | active | deactivated
    password_hash        TEXT,
    password_changed_at  TIMESTAMPTZ,
    created_at           TIMESTAMPTZ    NOT NULL,
    updated_at           TIMESTAMPTZ    NOT NULL
);
CREATE UNIQUE INDEX person_email_idx ON person (email_normalized);
CREATE INDEX person_organisation_idx ON person (organisation_id);

CREATE TABLE person_role (
    person_id UUID NOT NULL REFERENCES person (id),
    role      TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

-- JWT signing keys. A retired key signs nothing new; its public half stays published until
-- every token it signed has expired.
CREATE TABLE signing_key (
    kid         TEXT NOT NULL PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    public_pem  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);

-- A session family: every refresh token descending from one login.
CREATE TABLE auth_session (
    id                  UUID NOT NULL PRIMARY KEY,
    person_id           UUID NOT NULL REFERENCES person (id),
    created_at          TIMESTAMPTZ NOT NULL,
    absolute_expires_at TIMESTAMPTZ NOT NULL,
    revoked_at          TIMESTAMPTZ,
    revoked_reason      TEXT
);
CREATE INDEX auth_session_person_idx ON auth_session (person_id);

-- Refresh tokens, stored only as SHA-256 hashes. A used token stays, marked, so that its reuse
-- is recognised and revokes the family.
CREATE TABLE refresh_token (
    token_hash      TEXT NOT NULL PRIMARY KEY,
    session_id      UUID NOT NULL REFERENCES auth_session (id),
    issued_at       TIMESTAMPTZ NOT NULL,
    idle_expires_at TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE INDEX refresh_token_session_idx ON refresh_token (session_id);

-- Single-use links: invitations and password resets, stored only as SHA-256 hashes.
CREATE TABLE one_time_token (
    token_hash TEXT NOT NULL PRIMARY KEY,
    person_id  UUID NOT NULL REFERENCES person (id),
    purpose    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX one_time_token_person_idx ON one_time_token (person_id);

-- Failed sign-ins per client address and per account, for growing delays.
CREATE TABLE login_throttle (
    throttle_key    TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMPTZ    NOT NULL,
    blocked_until   TIMESTAMPTZ NOT NULL
);

-- Mail to send, written in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id              UUID    NOT NULL PRIMARY KEY,
    created_at      TIMESTAMPTZ    NOT NULL,
    recipient       TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ    NOT NULL,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX outbox_pending_idx ON outbox (sent_at, next_attempt_at);
