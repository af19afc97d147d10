-- Incident management: support groups, incidents (with security flag, procedure phase,
-- major-incident state and SLA clock as columns lists filter on, JSON beside them),
-- affected CIs, need-to-know access, the communications log, attachments and evidence,
-- procedure steps, links, saved filters, full-text search, and the notification outbox.

CREATE TABLE support_groups (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    lead_id UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT support_groups_name_key UNIQUE (name)
);

CREATE TABLE support_group_members (
    group_id UUID NOT NULL REFERENCES support_groups (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX support_group_members_user ON support_group_members (user_id);

CREATE TABLE incidents (
    id UUID PRIMARY KEY NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    impact TEXT NOT NULL,
    urgency TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
    status TEXT NOT NULL CHECK (status IN ('new', 'in_progress', 'on_hold', 'resolved', 'closed')),
    service_id UUID REFERENCES cis (id) ON DELETE SET NULL,
    group_id UUID REFERENCES support_groups (id) ON DELETE SET NULL,
    assignee_id UUID REFERENCES users (id) ON DELETE SET NULL,
    reporter_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    channel TEXT NOT NULL CHECK (channel IN ('portal', 'web', 'api')),
    security BOOLEAN NOT NULL DEFAULT FALSE,
    phase TEXT,
    -- SLA authorised roles of the service, one bit per role (need-to-know).
    authorised_roles BIGINT NOT NULL DEFAULT 0,
    major BOOLEAN NOT NULL DEFAULT FALSE,
    sla_id UUID REFERENCES slas (id) ON DELETE SET NULL,
    response_due_at BIGINT,
    resolution_due_at BIGINT,
    response_state TEXT,
    resolution_state TEXT,
    -- When the clock job must look at this incident next (warning, breach).
    clock_check_at BIGINT,
    responded_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    -- Security reasons, flags, major state, holds, clock: JSON.
    detail TEXT NOT NULL,
    resolution TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT incidents_number_key UNIQUE (number)
);
CREATE INDEX incidents_group_open ON incidents (group_id, status, id);
CREATE INDEX incidents_assignee ON incidents (assignee_id, status, id);
CREATE INDEX incidents_reporter ON incidents (reporter_id, id);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_service ON incidents (service_id, created_at);
CREATE INDEX incidents_clock ON incidents (clock_check_at) WHERE clock_check_at IS NOT NULL;
CREATE INDEX incidents_security ON incidents (security, id);

ALTER TABLE incidents ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(title || ' ' || description, '[^[:alnum:]]+', ' ', 'g'))) STORED;
CREATE INDEX incidents_search ON incidents USING gin (search);
CREATE SEQUENCE incident_number;

CREATE TABLE incident_cis (
    incident_id UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    ci_id UUID NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, ci_id)
);
CREATE INDEX incident_cis_ci ON incident_cis (ci_id);

-- Need-to-know: people explicitly added, and the SLA's authorised users (source 'sla').
CREATE TABLE incident_access (
    incident_id UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('added', 'sla')),
    added_by UUID REFERENCES users (id) ON DELETE SET NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, user_id, source)
);
CREATE INDEX incident_access_user ON incident_access (user_id);

CREATE TABLE incident_links (
    a UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    b UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
CREATE INDEX incident_links_b ON incident_links (b);

CREATE TABLE incident_notes (
    id UUID PRIMARY KEY NOT NULL,
    incident_id UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('work_note', 'public_comment', 'external')),
    body TEXT NOT NULL,
    audience TEXT,
    recipient TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('recorded', 'draft', 'sent', 'rejected')),
    author_id UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    decided_by UUID REFERENCES users (id) ON DELETE SET NULL,
    decided_at BIGINT,
    decision_reason TEXT NOT NULL DEFAULT '',
    sent_at BIGINT
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, id);

CREATE TABLE incident_attachments (
    id UUID PRIMARY KEY NOT NULL,
    incident_id UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    evidence BOOLEAN NOT NULL DEFAULT FALSE,
    description TEXT NOT NULL DEFAULT '',
    content BYTEA NOT NULL,
    uploaded_by UUID REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id, id);

CREATE TABLE incident_actions (
    id UUID PRIMARY KEY NOT NULL,
    incident_id UUID NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    ci_id UUID REFERENCES cis (id) ON DELETE SET NULL,
    by_id UUID REFERENCES users (id) ON DELETE SET NULL,
    at BIGINT NOT NULL
);
CREATE INDEX incident_actions_incident ON incident_actions (incident_id, id);

CREATE TABLE saved_filters (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT saved_filters_name_key UNIQUE (user_id, name)
);

-- The notification outbox: written in the same transaction as the change it reports.
CREATE TABLE notification_events (
    id UUID PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    event TEXT NOT NULL,
    -- Set once the dispatcher has made its deliveries.
    dispatched_at BIGINT
);
CREATE INDEX notification_events_pending ON notification_events (at) WHERE dispatched_at IS NULL;
