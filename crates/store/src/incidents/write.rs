//! The rows of an incident write: binding an incident's columns, its satellite rows (CIs,
//! access, outbox events, audit) and the one-statement script of a batch of new incidents.

use crate::sql::Bind;

/// Batches of new incidents up to this size are written in one call to the database (31
/// parameters per incident: well under SQLite's 32,766 and PostgreSQL's 65,535).
pub(crate) const SCRIPT_MAX_INCIDENTS: usize = 64;

/// Binds an incident write's 31 insert columns (see `incident_rows::INSERT_COLS`).
pub(crate) fn bind_incident<Q: Bind>(
    q: Q,
    w: &custos_core::store::IncidentWrite,
    number: i64,
) -> Q {
    let i = &w.incident;
    let clock = i.clock.as_ref();
    q.bind(i.id.0)
        .bind(number)
        .bind(i.title.as_str())
        .bind(i.description.as_str())
        .bind(i.category.as_str())
        .bind(i.impact.as_str())
        .bind(i.urgency.as_str())
        .bind(i.priority.as_str())
        .bind(i.status.as_str())
        .bind(i.service.map(|c| c.0))
        .bind(i.group.map(|g| g.0))
        .bind(i.assignee.map(|u| u.0))
        .bind(i.reporter.0)
        .bind(i.channel.as_str())
        .bind(i.security.flagged)
        .bind(i.security.phase.map(|p| p.as_str()))
        .bind(w.authorised_roles)
        .bind(i.major.is_some())
        .bind(i.sla.map(|s| s.0))
        .bind(clock.and_then(|c| c.response.due_at).map(|t| t.0))
        .bind(clock.and_then(|c| c.resolution.due_at).map(|t| t.0))
        .bind(clock.map(|c| c.response.state.as_str()))
        .bind(clock.map(|c| c.resolution.state.as_str()))
        .bind(w.clock_check_at.map(|t| t.0))
        .bind(i.responded_at.map(|t| t.0))
        .bind(i.resolved_at.map(|t| t.0))
        .bind(i.closed_at.map(|t| t.0))
        .bind(
            serde_json::to_string(&crate::incidents::rows::Detail::of(i, &w.holds))
                .unwrap_or_default(),
        )
        .bind(i.resolution.as_str())
        .bind(i.created_at.0)
        .bind(i.updated_at.0)
}

/// Binds the four need-to-know parameters of `incident_rows::need_to_know`.
pub(crate) fn bind_viewer<Q: Bind>(q: Q, v: &custos_core::ticket::Viewer) -> Q {
    q.bind(v.user.0)
        .bind(v.security_team)
        .bind(v.role_mask)
        .bind(v.own_only)
}

/// Binds one dynamically built argument.
pub(crate) fn bind_arg<Q: Bind>(q: Q, a: crate::incidents::rows::Arg) -> Q {
    match a {
        crate::incidents::rows::Arg::Uuid(u) => q.bind(u),
        crate::incidents::rows::Arg::I64(n) => q.bind(n),
        crate::incidents::rows::Arg::Text(t) => q.bind(t),
        crate::incidents::rows::Arg::Bool(b) => q.bind(b),
    }
}

/// The columns [`bind_event`] binds, for a multi-row insert into the outbox.
pub(crate) const EVENT_INSERT: &str =
    "INSERT INTO notification_events (id, at, kind, entity_type, entity_id, event) VALUES";

/// Binds one outbox event's 6 columns ([`EVENT_INSERT`]).
pub(crate) fn bind_event<Q: Bind>(
    q: Q,
    e: &custos_core::notify::Event,
    now: custos_core::Timestamp,
) -> Q {
    q.bind(custos_core::EventId::new().0)
        .bind(now.0)
        .bind(e.kind.as_str())
        .bind(e.entity_type.as_str())
        .bind(e.entity_id.as_str())
        .bind(serde_json::to_string(e).unwrap_or_default())
}

/// A multi-row insert of `rows` SLA access rows, binding (incident, user, added_at) from
/// parameter `$first` on.
pub(crate) fn access_insert(first: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|k| {
            let p = first + 3 * k;
            format!("(${p}, ${}, 'sla', NULL, ${})", p + 1, p + 2)
        })
        .collect();
    format!(
        "INSERT INTO incident_access (incident_id, user_id, source, added_by, added_at) VALUES {}",
        values.join(", ")
    )
}

/// The satellite rows of incident writes: (incident, CI) for its CIs and its service,
/// and (incident, user) for the SLAs' authorised users.
pub(crate) type Pairs = Vec<(uuid::Uuid, uuid::Uuid)>;
pub(crate) fn satellites(writes: &[custos_core::store::IncidentWrite]) -> (Pairs, Pairs) {
    let mut cis = Vec::new();
    let mut access = Vec::new();
    for w in writes {
        let id = w.incident.id.0;
        let mut own: Vec<uuid::Uuid> = w.incident.cis.iter().map(|c| c.0).collect();
        own.extend(w.incident.service.map(|s| s.0));
        own.sort();
        own.dedup();
        cis.extend(own.into_iter().map(|c| (id, c)));
        access.extend(w.authorised_users.iter().map(|u| (id, u.0)));
    }
    (cis, access)
}

/// The audit entries of incident writes, one each.
pub(crate) fn audit_records(
    writes: &[custos_core::store::IncidentWrite],
) -> Vec<(&custos_core::authz::Actor, custos_core::audit::AuditRecord)> {
    writes
        .iter()
        .map(|w| {
            let rec = custos_core::audit::AuditRecord::new(
                w.audit_action,
                "incident",
                w.incident.id,
                w.changes.clone(),
            );
            (&w.actor, rec)
        })
        .collect()
}

/// Everything a batch of new (numbered) incidents writes besides the incident rows.
pub(crate) struct NewIncidentRows<'a> {
    pub batch: &'a [custos_core::store::IncidentWrite],
    pub cis: Pairs,
    pub access: Pairs,
    pub events: Vec<&'a custos_core::notify::Event>,
    pub records: Vec<(
        &'a custos_core::authz::Actor,
        custos_core::audit::AuditRecord,
    )>,
}

impl<'a> NewIncidentRows<'a> {
    pub fn of(batch: &'a [custos_core::store::IncidentWrite]) -> Self {
        let (cis, access) = satellites(batch);
        Self {
            batch,
            cis,
            access,
            events: batch.iter().flat_map(|w| w.events.iter()).collect(),
            records: audit_records(batch),
        }
    }

    /// The multi-row inserts, parameters numbered on from one statement to the next in
    /// the order [`bind_new_incidents`] binds them: incidents, CIs, access rows, outbox
    /// events, and last the audit entries (never empty: one per incident).
    pub fn statements(&self) -> Vec<String> {
        use crate::rows::value_lists_from;
        let per = crate::incidents::rows::INSERT_NCOLS;
        let mut out = vec![format!(
            "INSERT INTO incidents ({}) VALUES {}",
            crate::incidents::rows::INSERT_COLS,
            value_lists_from(1, self.batch.len(), per)
        )];
        let mut next = 1 + self.batch.len() * per;
        if !self.cis.is_empty() {
            out.push(format!(
                "INSERT INTO incident_cis (incident_id, ci_id) VALUES {}",
                value_lists_from(next, self.cis.len(), 2)
            ));
            next += 2 * self.cis.len();
        }
        if !self.access.is_empty() {
            out.push(access_insert(next, self.access.len()));
            next += 3 * self.access.len();
        }
        if !self.events.is_empty() {
            out.push(format!(
                "{EVENT_INSERT} {}",
                value_lists_from(next, self.events.len(), 6)
            ));
            next += 6 * self.events.len();
        }
        out.push(format!(
            "{} {}",
            crate::audit::AUDIT_INSERT,
            value_lists_from(next, self.records.len(), 8)
        ));
        out
    }
}

/// Binds the parameters of [`NewIncidentRows::statements`] to one query.
pub(crate) fn bind_new_incidents<Q: Bind>(
    mut q: Q,
    parts: &NewIncidentRows<'_>,
    numbers: &[i64],
    now: custos_core::Timestamp,
) -> Q {
    for (w, n) in parts.batch.iter().zip(numbers) {
        q = bind_incident(q, w, *n);
    }
    for (i, c) in &parts.cis {
        q = q.bind(*i).bind(*c);
    }
    for (i, u) in &parts.access {
        q = q.bind(*i).bind(*u).bind(now.0);
    }
    for e in &parts.events {
        q = bind_event(q, e, now);
    }
    for (actor, rec) in &parts.records {
        q = crate::audit::bind_audit(q, actor, rec, now);
    }
    q
}

/// Gives new incidents their numbers: on the incident, and in its notification events and
/// audit changes, which were written before the number existed.
pub(crate) fn number_writes(batch: &mut [custos_core::store::IncidentWrite], numbers: &[i64]) {
    for (w, n) in batch.iter_mut().zip(numbers) {
        let r = custos_core::ticket::reference(*n);
        let pending = custos_core::ticket::PENDING_REFERENCE;
        w.incident.number = *n;
        w.incident.reference = r.clone();
        for e in &mut w.events {
            e.reference = r.clone();
            e.subject = e.subject.replace(pending, &r);
            e.body = e.body.replace(pending, &r);
        }
        if let Some(v) = w.changes.get_mut("reference") {
            *v = serde_json::json!({"after": r});
        }
    }
}
