-- Required measures: which baseline each classification level needs, controls added to
-- CIs explicitly, and how each CI implements each control.

CREATE TABLE level_baselines (
    level SMALLINT PRIMARY KEY NOT NULL CHECK (level BETWEEN 1 AND 3),
    baseline_id UUID REFERENCES baselines (id) ON DELETE SET NULL
);

CREATE TABLE ci_controls (
    ci_id UUID NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    control_ref UUID NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ci_id, control_ref)
);

CREATE TABLE implementations (
    ci_id UUID NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    control_ref UUID NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('not_started', 'planned', 'implemented', 'verified', 'failed', 'not_applicable')),
    justification TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '',
    links TEXT NOT NULL DEFAULT '[]',
    owner_id UUID REFERENCES users (id) ON DELETE SET NULL,
    last_verified_at BIGINT,
    next_review_at BIGINT,
    inheritable BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (ci_id, control_ref),
    CHECK (status <> 'not_applicable' OR justification <> '')
);
CREATE INDEX implementations_control ON implementations (control_ref);
CREATE INDEX implementations_review ON implementations (next_review_at);
