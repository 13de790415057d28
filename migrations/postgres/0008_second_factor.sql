-- A second factor for signing in (services/identity/src/factor/). One row per authenticator a
-- person holds. `kind` is 'totp' now; passkeys (WebAuthn) will be another kind of the same
-- table: their public key credential goes in `credential` (kind-specific JSON), `secret` stays
-- NULL for them.
CREATE TABLE second_factor (
    id             UUID    NOT NULL PRIMARY KEY,
    person_id      UUID    NOT NULL REFERENCES person (id),
    kind           TEXT    NOT NULL,  -- totp (later: webauthn)
    name           TEXT    NOT NULL,  -- what the person calls it ("Authenticator app")
    secret         TEXT,              -- TOTP: the shared secret (160 random bits), sealed
                                      -- under the key-encryption key (sealed-v1:…)
    credential     TEXT,              -- kind-specific JSON (a passkey's public key, its counter…)
    created_at     TIMESTAMPTZ NOT NULL,
    confirmed_at   TIMESTAMPTZ,       -- NULL until a first code proved the enrolment
    last_used_at   TIMESTAMPTZ,
    last_used_step BIGINT             -- TOTP: the last 30-s step accepted; it and older are refused
);
CREATE INDEX second_factor_person_idx ON second_factor (person_id);

-- One-time recovery codes, stored only as SHA-256 hashes (each has 80 random bits).
CREATE TABLE recovery_code (
    code_hash  TEXT NOT NULL PRIMARY KEY,
    person_id  UUID NOT NULL REFERENCES person (id),
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX recovery_code_person_idx ON recovery_code (person_id);

-- A sign-in whose password was right and whose second step (a code, or enrolment) is pending.
-- The token the client holds is stored only as a SHA-256 hash; it is used once.
CREATE TABLE sign_in_challenge (
    token_hash TEXT NOT NULL PRIMARY KEY,
    person_id  UUID NOT NULL REFERENCES person (id),
    purpose    TEXT NOT NULL,  -- verify | enrol
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX sign_in_challenge_person_idx ON sign_in_challenge (person_id);
