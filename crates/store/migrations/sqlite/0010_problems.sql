-- Problem management: problems with their workaround and permanent solution (text and
-- state as columns lists filter on, the rest of each fix as JSON beside them), affected
-- CIs, links to incidents, full-text search, and the history of security reviews.

CREATE TABLE problems (
    id BLOB PRIMARY KEY NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('new', 'investigating', 'known_error', 'resolved', 'closed')),
    service_id BLOB REFERENCES cis (id) ON DELETE SET NULL,
    assignee_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    security_risk BOOLEAN NOT NULL DEFAULT FALSE,
    root_cause TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    workaround_state TEXT NOT NULL CHECK (workaround_state IN ('draft', 'pending_review', 'approved', 'published', 'rejected')),
    solution TEXT NOT NULL DEFAULT '',
    solution_state TEXT NOT NULL CHECK (solution_state IN ('draft', 'pending_review', 'approved', 'published', 'rejected')),
    -- Who edited, submitted and published each fix, and its current review: JSON.
    detail TEXT NOT NULL,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    closed_at BIGINT,
    CONSTRAINT problems_number_key UNIQUE (number)
);
CREATE INDEX problems_status ON problems (status, id);
CREATE INDEX problems_service ON problems (service_id, id);
CREATE INDEX problems_known_error ON problems (workaround_state, id);

CREATE VIRTUAL TABLE problems_fts USING fts5 (title, description, workaround, content = 'problems', content_rowid = 'rowid');
CREATE TRIGGER problems_fts_insert AFTER INSERT ON problems BEGIN
    INSERT INTO problems_fts (rowid, title, description, workaround) VALUES (new.rowid, new.title, new.description, new.workaround);
END;
CREATE TRIGGER problems_fts_delete AFTER DELETE ON problems BEGIN
    INSERT INTO problems_fts (problems_fts, rowid, title, description, workaround) VALUES ('delete', old.rowid, old.title, old.description, old.workaround);
END;
CREATE TRIGGER problems_fts_update AFTER UPDATE OF title, description, workaround ON problems BEGIN
    INSERT INTO problems_fts (problems_fts, rowid, title, description, workaround) VALUES ('delete', old.rowid, old.title, old.description, old.workaround);
    INSERT INTO problems_fts (rowid, title, description, workaround) VALUES (new.rowid, new.title, new.description, new.workaround);
END;

CREATE TABLE problem_cis (
    problem_id BLOB NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    ci_id BLOB NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    PRIMARY KEY (problem_id, ci_id)
);
CREATE INDEX problem_cis_ci ON problem_cis (ci_id);

CREATE TABLE problem_incidents (
    problem_id BLOB NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    incident_id BLOB NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    linked_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);

-- Every security review of a fix, as recorded (decision, reasons, confirmations and the
-- check the reviewer was shown). History: rows are only ever added.
CREATE TABLE problem_reviews (
    id BLOB PRIMARY KEY NOT NULL,
    problem_id BLOB NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    fix TEXT NOT NULL CHECK (fix IN ('workaround', 'solution')),
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reviewer_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    at BIGINT NOT NULL,
    text_sha256 TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX problem_reviews_problem ON problem_reviews (problem_id, at);
CREATE TRIGGER problem_reviews_never_updated BEFORE UPDATE ON problem_reviews BEGIN
    SELECT RAISE(ABORT, 'problem reviews are history and never change');
END;
