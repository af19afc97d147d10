-- Evidence files for an implementation (CI × control), kept with their SHA-256.
CREATE TABLE evidence_files (
    id UUID PRIMARY KEY NOT NULL,
    ci_id UUID NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    control_ref UUID NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX evidence_files_impl ON evidence_files (ci_id, control_ref);
