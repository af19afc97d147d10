-- Foundation: organisation, accounts, authentication, audit chain.
-- Ids are UUIDv7 (native UUIDs here), instants are epoch milliseconds.

CREATE TABLE departments (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL CONSTRAINT departments_name_key UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    mfa_required BOOLEAN NOT NULL,
    session_lifetime_minutes BIGINT NOT NULL,
    idle_timeout_minutes BIGINT NOT NULL,
    access_two_approvals BOOLEAN NOT NULL,
    monitoring_level TEXT NOT NULL CHECK (monitoring_level IN ('standard', 'elevated', 'high')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    department_id UUID CONSTRAINT users_department_id_fkey REFERENCES departments (id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_last_step BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_department_id ON users (department_id);

CREATE TABLE recovery_codes (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_failures (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures (email, at);

CREATE TABLE sessions (
    id UUID PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL CHECK (stage IN ('needs_totp', 'needs_enrolment', 'full')),
    csrf_token TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL CONSTRAINT api_tokens_token_hash_key UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- Entries are inserted unsealed (seq, prev_hash, hash NULL) by the writing transaction and
-- chained by the sealer. actor_id has no foreign key: the log outlives the accounts.
CREATE TABLE audit_log (
    id UUID PRIMARY KEY NOT NULL,
    seq BIGINT CONSTRAINT audit_log_seq_key UNIQUE,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_id UUID,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    changes TEXT NOT NULL,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain head, kept apart from the entries so that removing entries from the end of the
-- chain is detected.
CREATE TABLE audit_head (
    singleton SMALLINT PRIMARY KEY NOT NULL CHECK (singleton = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (singleton, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
