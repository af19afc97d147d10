-- CMDB: CI types, configuration items with explicit and effective classification,
-- relationships. Levels: 1 low, 2 moderate, 3 high.

CREATE TABLE ci_types (
    name TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    builtin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO ci_types (name, label, builtin, created_at) VALUES
    ('business_service', 'Business service', TRUE, 0),
    ('application', 'Application', TRUE, 0),
    ('server', 'Server', TRUE, 0),
    ('virtual_machine', 'Virtual machine', TRUE, 0),
    ('database', 'Database', TRUE, 0),
    ('network_device', 'Network device', TRUE, 0),
    ('cloud_service', 'Cloud service', TRUE, 0),
    ('storage_media', 'Storage media', TRUE, 0),
    ('dataset', 'Dataset', TRUE, 0),
    ('endpoint', 'Endpoint', TRUE, 0);

CREATE TABLE cis (
    id BLOB PRIMARY KEY NOT NULL,
    ci_type TEXT NOT NULL CONSTRAINT cis_ci_type_fkey REFERENCES ci_types (name),
    name TEXT NOT NULL,
    external_key TEXT CONSTRAINT cis_external_key_key UNIQUE,
    owner_id BLOB CONSTRAINT cis_owner_id_fkey REFERENCES users (id),
    department_id BLOB CONSTRAINT cis_department_id_fkey REFERENCES departments (id),
    status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'retired')),
    attributes TEXT NOT NULL,
    cls_c SMALLINT CHECK (cls_c BETWEEN 1 AND 3),
    cls_i SMALLINT CHECK (cls_i BETWEEN 1 AND 3),
    cls_a SMALLINT CHECK (cls_a BETWEEN 1 AND 3),
    cls_justification TEXT NOT NULL DEFAULT '',
    eff_c SMALLINT NOT NULL DEFAULT 1,
    eff_i SMALLINT NOT NULL DEFAULT 1,
    eff_a SMALLINT NOT NULL DEFAULT 1,
    eff_c_source BLOB,
    eff_c_via BLOB,
    eff_i_source BLOB,
    eff_i_via BLOB,
    eff_a_source BLOB,
    eff_a_via BLOB,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cis_type ON cis (ci_type, id);

-- Full-text search over names and attributes (external content, kept by triggers).
CREATE VIRTUAL TABLE cis_fts USING fts5 (name, attributes, content = 'cis', content_rowid = 'rowid');
CREATE TRIGGER cis_fts_insert AFTER INSERT ON cis BEGIN
    INSERT INTO cis_fts (rowid, name, attributes) VALUES (new.rowid, new.name, new.attributes);
END;
CREATE TRIGGER cis_fts_delete AFTER DELETE ON cis BEGIN
    INSERT INTO cis_fts (cis_fts, rowid, name, attributes) VALUES ('delete', old.rowid, old.name, old.attributes);
END;
CREATE TRIGGER cis_fts_update AFTER UPDATE OF name, attributes ON cis BEGIN
    INSERT INTO cis_fts (cis_fts, rowid, name, attributes) VALUES ('delete', old.rowid, old.name, old.attributes);
    INSERT INTO cis_fts (rowid, name, attributes) VALUES (new.rowid, new.name, new.attributes);
END;

CREATE TABLE relationships (
    id BLOB PRIMARY KEY NOT NULL,
    source_id BLOB NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    target_id BLOB NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    rel_type TEXT NOT NULL CHECK (rel_type IN ('depends_on', 'runs_on', 'hosted_by', 'connects_to', 'stores_data_of')),
    created_at BIGINT NOT NULL,
    CONSTRAINT relationships_unique UNIQUE (source_id, target_id, rel_type),
    CHECK (source_id <> target_id)
);
CREATE INDEX relationships_target ON relationships (target_id);

-- Writers that change the classification graph take this row first, so that two
-- re-propagations never interleave.
CREATE TABLE cmdb_lock (singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1));
INSERT INTO cmdb_lock (singleton) VALUES (1);
