-- Notification deliveries: what the dispatcher made of each outbox event (one e-mail per
-- recipient address, one POST per subscribed webhook), with every attempt's outcome.

CREATE TABLE notification_deliveries (
    id BLOB PRIMARY KEY NOT NULL,
    event_id BLOB NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- The e-mail address, or the configured webhook's name (never its URL or secret).
    target TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts INT NOT NULL DEFAULT 0,
    -- When it is due (pending, failed); also the lease of a dispatcher sending it.
    next_attempt_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    CONSTRAINT notification_deliveries_target_key UNIQUE (event_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
