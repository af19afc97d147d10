-- Announcements: service notices by the service desk, shown on the portal and the dashboard
-- while their window [starts_at, ends_at) contains now, to everyone or to agents only.
CREATE TABLE announcements (
    id UUID PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL CHECK (severity IN ('info', 'maintenance', 'outage')),
    service_id UUID REFERENCES cis (id) ON DELETE SET NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('everyone', 'agents')),
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT announcements_window CHECK (ends_at > starts_at)
);
