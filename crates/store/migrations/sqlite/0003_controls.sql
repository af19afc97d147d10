-- Control catalogue: catalogs (imported from OSCAL or written by hand), controls, and
-- baselines (an OSCAL profile applied to a catalog).

CREATE TABLE catalogs (
    id BLOB PRIMARY KEY NOT NULL,
    oscal_uuid TEXT CONSTRAINT catalogs_oscal_uuid_key UNIQUE,
    title TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('oscal', 'manual')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE controls (
    id BLOB PRIMARY KEY NOT NULL,
    catalog_id BLOB NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    control_id TEXT NOT NULL,
    label TEXT NOT NULL,
    title TEXT NOT NULL,
    family TEXT NOT NULL,
    parent_control_id TEXT,
    statement TEXT NOT NULL,
    guidance TEXT NOT NULL,
    function TEXT NOT NULL CHECK (function IN ('preventive', 'detective', 'corrective')),
    function_source TEXT NOT NULL CHECK (function_source IN ('catalog', 'default', 'manual')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT controls_catalog_control_key UNIQUE (catalog_id, control_id)
);
CREATE INDEX controls_family ON controls (family, control_id);

CREATE TABLE baselines (
    id BLOB PRIMARY KEY NOT NULL,
    oscal_uuid TEXT CONSTRAINT baselines_oscal_uuid_key UNIQUE,
    name TEXT NOT NULL,
    catalog_id BLOB NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE baseline_controls (
    baseline_id BLOB NOT NULL REFERENCES baselines (id) ON DELETE CASCADE,
    control_ref BLOB NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    PRIMARY KEY (baseline_id, control_ref)
);
CREATE INDEX baseline_controls_control ON baseline_controls (control_ref);
