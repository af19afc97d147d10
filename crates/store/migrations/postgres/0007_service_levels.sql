-- Service level management: customers and their representatives, suppliers, the service
-- catalogue (an entry on a business_service CI), SLAs (versioned; terms as JSON, the
-- columns that lists filter on beside them), the controls agreed SLAs require, OLAs,
-- underpinning contracts, kept (immutable) reports and job leases.

CREATE TABLE customers (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('external', 'internal')),
    department_id UUID REFERENCES departments (id) ON DELETE SET NULL,
    contact TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT customers_name_key UNIQUE (name)
);

CREATE TABLE customer_representatives (
    customer_id UUID NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (customer_id, user_id)
);
CREATE INDEX customer_representatives_user ON customer_representatives (user_id);

CREATE TABLE suppliers (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    security_requirements TEXT NOT NULL DEFAULT '',
    risk_tier TEXT NOT NULL CHECK (risk_tier IN ('low', 'medium', 'high', 'critical')),
    contract_start TEXT,
    contract_end TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT suppliers_name_key UNIQUE (name)
);

CREATE TABLE services (
    ci_id UUID PRIMARY KEY NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    owner_id UUID REFERENCES users (id) ON DELETE SET NULL,
    hours TEXT NOT NULL,
    targets TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The service's security baseline: required on the service and everything inheriting
-- its classification.
CREATE TABLE service_baseline (
    ci_id UUID NOT NULL REFERENCES services (ci_id) ON DELETE CASCADE,
    control_ref UUID NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    PRIMARY KEY (ci_id, control_ref)
);

CREATE TABLE slas (
    id UUID PRIMARY KEY NOT NULL,
    series_id UUID NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'agreed', 'superseded', 'expired')),
    customer_id UUID NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    service_id UUID NOT NULL REFERENCES services (ci_id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    terms TEXT NOT NULL,
    customer_agreed_by UUID REFERENCES users (id) ON DELETE SET NULL,
    customer_agreed_at BIGINT,
    owner_agreed_by UUID REFERENCES users (id) ON DELETE SET NULL,
    owner_agreed_at BIGINT,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT slas_series_version_key UNIQUE (series_id, version)
);
CREATE INDEX slas_customer ON slas (customer_id);
CREATE INDEX slas_service ON slas (service_id);
-- At most one draft per series.
CREATE UNIQUE INDEX slas_one_draft ON slas (series_id) WHERE status = 'draft';

-- Controls that agreed SLAs' requirements make required on their service.
CREATE TABLE sla_controls (
    sla_id UUID NOT NULL REFERENCES slas (id) ON DELETE CASCADE,
    ci_id UUID NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    control_ref UUID NOT NULL REFERENCES controls (id) ON DELETE CASCADE,
    PRIMARY KEY (sla_id, control_ref)
);
CREATE INDEX sla_controls_ci ON sla_controls (ci_id);

CREATE TABLE olas (
    id UUID PRIMARY KEY NOT NULL,
    service_id UUID NOT NULL REFERENCES services (ci_id) ON DELETE CASCADE,
    terms TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX olas_service ON olas (service_id);

CREATE TABLE contracts (
    id UUID PRIMARY KEY NOT NULL,
    supplier_id UUID NOT NULL REFERENCES suppliers (id) ON DELETE RESTRICT,
    service_id UUID NOT NULL REFERENCES services (ci_id) ON DELETE CASCADE,
    terms TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contracts_service ON contracts (service_id);
CREATE INDEX contracts_supplier ON contracts (supplier_id);

-- Kept reports are never updated: content and its SHA-256 (also in the audit chain).
CREATE TABLE sla_reports (
    id UUID PRIMARY KEY NOT NULL,
    sla_id UUID NOT NULL REFERENCES slas (id) ON DELETE RESTRICT,
    series_id UUID NOT NULL,
    period TEXT NOT NULL,
    generated_at BIGINT NOT NULL,
    generated_by UUID REFERENCES users (id) ON DELETE SET NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    CONSTRAINT sla_reports_period_key UNIQUE (sla_id, period)
);
CREATE INDEX sla_reports_series ON sla_reports (series_id, period);

CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);
