-- Issue 16: a person of a rental company may have several professional vehicles. The single
-- `person.licence_plate` becomes a table, one row per plate; existing plates are copied over and
-- the column is dropped. A plate is stored trimmed and upper-cased, once per person.
CREATE TABLE vehicle (
    id            UUID        NOT NULL PRIMARY KEY,
    person_id     UUID        NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    licence_plate TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX vehicle_person_plate_idx ON vehicle (person_id, licence_plate);

INSERT INTO vehicle (id, person_id, licence_plate, created_at)
    SELECT gen_random_uuid(), id, upper(trim(licence_plate)), updated_at
    FROM person WHERE licence_plate IS NOT NULL AND trim(licence_plate) <> '';

ALTER TABLE person DROP COLUMN licence_plate;
