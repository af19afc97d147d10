//! `IncidentStore`: support groups, incidents (batched creation for group commit,
//! optimistic saves), need-to-know reads, the communications log, attachments and
//! evidence, procedure steps, links, saved filters, report aggregates and the notification
//! outbox. Row shapes and the need-to-know predicate are in `incident_rows.rs`.

use crate::sql::Bind;
pub(crate) use crate::sql::CHUNK_ROWS;

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
            serde_json::to_string(&crate::incident_rows::Detail::of(i, &w.holds))
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
pub(crate) fn bind_arg<Q: Bind>(q: Q, a: crate::incident_rows::Arg) -> Q {
    match a {
        crate::incident_rows::Arg::Uuid(u) => q.bind(u),
        crate::incident_rows::Arg::I64(n) => q.bind(n),
        crate::incident_rows::Arg::Text(t) => q.bind(t),
        crate::incident_rows::Arg::Bool(b) => q.bind(b),
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
        let per = crate::incident_rows::INSERT_NCOLS;
        let mut out = vec![format!(
            "INSERT INTO incidents ({}) VALUES {}",
            crate::incident_rows::INSERT_COLS,
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

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    async fn incident_cis_of(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        ids: &[uuid::Uuid],
    ) -> custos_core::error::StoreResult<
        std::collections::HashMap<uuid::Uuid, Vec<custos_core::CiId>>,
    > {
        let mut out: std::collections::HashMap<uuid::Uuid, Vec<custos_core::CiId>> =
            std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT incident_id, ci_id FROM incident_cis WHERE incident_id IN ({}) ORDER BY ci_id",
            crate::rows::placeholders(1, ids.len())
        );
        let mut q = Self::query_as::<(uuid::Uuid, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        for (i, c) in q
            .fetch_all(&mut *conn)
            .await
            .map_err(crate::error::map("incident"))?
        {
            out.entry(i).or_default().push(custos_core::CiId(c));
        }
        Ok(out)
    }

    pub(crate) async fn incidents_from_rows(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        rows: Vec<crate::incident_rows::IncidentRow>,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Incident>> {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id()).collect();
        let mut cis = Self::incident_cis_of(conn, &ids).await?;
        rows.into_iter()
            .map(|r| {
                let c = cis.remove(&r.id()).unwrap_or_default();
                r.into_incident(c)
            })
            .collect()
    }

    /// One incident by a condition on `i` ($5 is its value), under need-to-know.
    async fn incident_where(
        &self,
        viewer: &custos_core::ticket::Viewer,
        cond: &str,
        value: crate::incident_rows::Arg,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Incident> {
        let map = crate::error::map("incident");
        let sql = format!(
            "SELECT {}, {} AS ci_list, {} AS link_list FROM incidents i WHERE {} AND {cond}",
            crate::incident_rows::INCIDENT_COLS,
            Self::uuid_list("SELECT ci_id AS x FROM incident_cis WHERE incident_id = i.id"),
            // Only the linked incidents the viewer may see (need-to-know).
            Self::uuid_list(&format!(
                "SELECT l.id AS x FROM incidents l WHERE l.id IN \
                 (SELECT b FROM incident_links WHERE a = i.id UNION SELECT a FROM incident_links WHERE b = i.id) \
                 AND {}",
                crate::incident_rows::need_to_know_of("l", 1)
            )),
            crate::incident_rows::need_to_know(1)
        );
        let q = crate::incidents::bind_viewer(
            Self::query_as::<crate::incident_rows::IncidentFullRow>(sqlx::AssertSqlSafe(sql)),
            viewer,
        );
        let q = crate::incidents::bind_arg(q, value);
        q.fetch_one(self).await.map_err(&map)?.into_incident()
    }

    /// Writes the satellite rows of incident writes: CIs, the SLA's authorised
    /// users, the audit entries and the events, each kind as multi-row inserts (a
    /// batch of creates costs a handful of statements, not a handful per incident).
    async fn write_incident_parts(
        tx: &mut crate::sql::AuditedTx<B>,
        writes: &[custos_core::store::IncidentWrite],
        replace: bool,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("incident");
        if replace {
            for w in writes {
                let id = w.incident.id.0;
                Self::query("DELETE FROM incident_cis WHERE incident_id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(&map)?;
                Self::query(
                    "DELETE FROM incident_access WHERE incident_id = $1 AND source = 'sla'",
                )
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(&map)?;
            }
        }
        let (cis, access) = crate::incidents::satellites(writes);
        for chunk in cis.chunks(crate::incidents::CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO incident_cis (incident_id, ci_id) VALUES {}",
                crate::rows::value_lists(chunk.len(), 2)
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (i, c) in chunk {
                q = q.bind(*i).bind(*c);
            }
            q.execute(&mut **tx)
                .await
                .map_err(|e| crate::parties::missing_ref("CI")(map(e)))?;
        }
        for chunk in access.chunks(crate::incidents::CHUNK_ROWS) {
            let sql = crate::incidents::access_insert(1, chunk.len());
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (i, u) in chunk {
                q = q.bind(*i).bind(*u).bind(now.0);
            }
            q.execute(&mut **tx).await.map_err(&map)?;
        }
        let events: Vec<custos_core::notify::Event> = writes
            .iter()
            .flat_map(|w| w.events.iter().cloned())
            .collect();
        Self::write_events(tx, &events, now).await?;
        let records = crate::incidents::audit_records(writes);
        tx.record_all(records, now);
        Ok(())
    }

    pub(crate) async fn write_events(
        tx: &mut <B::Db as sqlx::Database>::Connection,
        events: &[custos_core::notify::Event],
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        for chunk in events.chunks(crate::incidents::CHUNK_ROWS) {
            let sql = format!(
                "{} {}",
                crate::incidents::EVENT_INSERT,
                crate::rows::value_lists(chunk.len(), 6)
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for e in chunk {
                q = crate::incidents::bind_event(q, e, now);
            }
            q.execute(&mut *tx)
                .await
                .map_err(crate::error::map("notification event"))?;
        }
        Ok(())
    }

    async fn group_in(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        let map = crate::error::map("group");
        let row: crate::incident_rows::GroupRow = Self::query_as(
            "SELECT id, name, description, lead_id FROM support_groups WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(&map)?;
        let members: Vec<(uuid::Uuid,)> = Self::query_as(
            "SELECT user_id FROM support_group_members WHERE group_id = $1 ORDER BY user_id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(&map)?;
        Ok(row.into_group(
            members
                .into_iter()
                .map(|(u,)| custos_core::UserId(u))
                .collect(),
        ))
    }

    async fn write_group(
        &self,
        actor: &custos_core::authz::Actor,
        id: Option<custos_core::GroupId>,
        g: custos_core::ticket::GroupInput,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("group");
        let mut tx = self.audited().await?;
        let before = match id {
            Some(id) => Some(Self::group_in(&mut tx, id.0).await?),
            None => None,
        };
        let id = id.unwrap_or_default();
        let sql = if before.is_some() {
            "UPDATE support_groups SET name = $2, description = $3, lead_id = $4, updated_at = $5 WHERE id = $1"
        } else {
            "INSERT INTO support_groups (id, name, description, lead_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)"
        };
        Self::query(sql)
            .bind(id.0)
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.lead.map(|u| u.0))
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::parties::missing_ref("user")(map(e)))?;
        Self::query("DELETE FROM support_group_members WHERE group_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        for u in &g.members {
            Self::query("INSERT INTO support_group_members (group_id, user_id) VALUES ($1, $2)")
                .bind(id.0)
                .bind(u.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::parties::missing_ref("user")(map(e)))?;
        }
        let after = Self::group_in(&mut tx, id.0).await?;
        let changes = custos_core::audit::diff(
            before.as_ref().map(crate::parties::json_of).as_ref(),
            Some(&crate::parties::json_of(&after)),
        );
        let action = if before.is_some() {
            "group.update"
        } else {
            "group.create"
        };
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(action, "group", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::IncidentStore for crate::sql::SqlStore<B> {
    async fn create_group(
        &self,
        actor: &custos_core::authz::Actor,
        g: custos_core::ticket::GroupInput,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        self.write_group(actor, None, g).await
    }

    async fn update_group(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::GroupId,
        g: custos_core::ticket::GroupInput,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        self.write_group(actor, Some(id), g).await
    }

    async fn delete_group(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::GroupId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("group");
        let mut tx = self.audited().await?;
        let before = Self::group_in(&mut tx, id.0).await?;
        Self::query("DELETE FROM support_groups WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes = custos_core::audit::diff(Some(&crate::parties::json_of(&before)), None);
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("group.delete", "group", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn group(
        &self,
        id: custos_core::GroupId,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::error::map("group"))?;
        Self::group_in(&mut conn, id.0).await
    }

    async fn list_groups(
        &self,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Group>> {
        let map = crate::error::map("group");
        let rows: Vec<crate::incident_rows::GroupRow> = Self::query_as(
            "SELECT id, name, description, lead_id FROM support_groups ORDER BY name LIMIT 1000",
        )
        .fetch_all(self)
        .await
        .map_err(&map)?;
        let members: Vec<(uuid::Uuid, uuid::Uuid)> =
            Self::query_as("SELECT group_id, user_id FROM support_group_members ORDER BY user_id")
                .fetch_all(self)
                .await
                .map_err(&map)?;
        let mut by: std::collections::HashMap<uuid::Uuid, Vec<custos_core::UserId>> =
            std::collections::HashMap::new();
        for (g, u) in members {
            by.entry(g).or_default().push(custos_core::UserId(u));
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let m = by.remove(&r.id).unwrap_or_default();
                r.into_group(m)
            })
            .collect())
    }

    async fn create_incidents(
        &self,
        batch: Vec<custos_core::store::IncidentWrite>,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Incident>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let now = custos_core::Timestamp::now();
        let mut batch = batch;
        // One call to the database when the batch fits one statement (the seed's
        // large batches take the statement-by-statement way below).
        if batch.len() <= crate::incidents::SCRIPT_MAX_INCIDENTS {
            B::create_incidents_script(self, &mut batch, now).await?;
            return Ok(batch.into_iter().map(|w| w.incident).collect());
        }
        let map = crate::error::map("incident");
        let mut tx = self.audited().await?;
        let numbers = B::next_incident_numbers(self, &mut tx, batch.len()).await?;
        // One multi-row insert per chunk keeps the statement count low under load.
        let per = crate::incident_rows::INSERT_NCOLS;
        let mut done = 0usize;
        for chunk in batch.chunks(400) {
            let values: Vec<String> = (0..chunk.len())
                .map(|k| format!("({})", crate::rows::placeholders(1 + k * per, per)))
                .collect();
            let sql = format!(
                "INSERT INTO incidents ({}) VALUES {}",
                crate::incident_rows::INSERT_COLS,
                values.join(", ")
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (k, w) in chunk.iter().enumerate() {
                q = crate::incidents::bind_incident(q, w, numbers[done + k]);
            }
            q.execute(&mut *tx).await.map_err(|e| {
                crate::parties::missing_ref("service, CI, group, user or SLA")(map(e))
            })?;
            done += chunk.len();
        }
        crate::incidents::number_writes(&mut batch, &numbers);
        Self::write_incident_parts(&mut tx, &batch, false, now).await?;
        tx.commit().await?;
        Ok(batch.into_iter().map(|w| w.incident).collect())
    }

    async fn save_incident(
        &self,
        mut w: custos_core::store::IncidentWrite,
        expected: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Incident> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident");
        // Strictly later than what the caller read, so a concurrent save always notices.
        w.incident.updated_at = custos_core::Timestamp(w.incident.updated_at.0.max(expected.0 + 1));
        let mut tx = self.audited().await?;
        let sets: Vec<String> = crate::incident_rows::INSERT_COLS
            .split(", ")
            .enumerate()
            .filter(|(_, c)| {
                !matches!(
                    *c,
                    "id" | "number" | "created_at" | "reporter_id" | "channel"
                )
            })
            .map(|(k, c)| format!("{c} = ${}", k + 1))
            .collect();
        let sql = format!(
            "UPDATE incidents SET {} WHERE id = $1 AND updated_at = ${}",
            sets.join(", "),
            crate::incident_rows::INSERT_NCOLS + 1
        );
        let q = Self::query(sqlx::AssertSqlSafe(sql));
        let q = crate::incidents::bind_incident(q, &w, w.incident.number);
        let done =
            q.bind(expected.0).execute(&mut *tx).await.map_err(|e| {
                crate::parties::missing_ref("service, CI, group, user or SLA")(map(e))
            })?;
        if done == 0 {
            let exists: Option<(i64,)> =
                Self::query_as("SELECT updated_at FROM incidents WHERE id = $1")
                    .bind(w.incident.id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(&map)?;
            return Err(match exists {
                Some(_) => custos_core::StoreError::Conflict {
                    constraint: "incident_version".into(),
                },
                None => custos_core::StoreError::not_found("incident"),
            });
        }
        Self::write_incident_parts(&mut tx, std::slice::from_ref(&w), true, now).await?;
        tx.commit().await?;
        Ok(w.incident)
    }

    async fn incident(
        &self,
        viewer: &custos_core::ticket::Viewer,
        id: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Incident> {
        self.incident_where(viewer, "i.id = $5", crate::incident_rows::Arg::Uuid(id.0))
            .await
    }

    async fn incident_by_number(
        &self,
        viewer: &custos_core::ticket::Viewer,
        number: i64,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Incident> {
        self.incident_where(
            viewer,
            "i.number = $5",
            crate::incident_rows::Arg::I64(number),
        )
        .await
    }

    async fn list_incidents(
        &self,
        viewer: &custos_core::ticket::Viewer,
        f: &custos_core::ticket::IncidentFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::ticket::Incident>>
    {
        let map = crate::error::map("incident");
        if !f.text.is_empty() {
            B::search_caught_up(self).await?;
        }
        let (mut clause, mut args) = crate::incident_rows::filter_clause(
            f,
            |n| Self::incident_search(n),
            |t| Self::fts_query(t),
        );
        let listing = Self::incident_listing(!f.text.is_empty());
        let mut after_cond = String::new();
        if let Some(after) = page.after {
            args.push(crate::incident_rows::Arg::Uuid(after));
            after_cond = listing.after(args.len() + 4);
            clause.push_str(&format!(" AND {after_cond}"));
        }
        // The window first if the backend has one (see `Listing::window`), then the
        // query as it is when the window does not fill the page.
        let mut froms = vec![];
        if listing.window > 0 {
            let inner = if after_cond.is_empty() {
                String::new()
            } else {
                format!("WHERE {after_cond}")
            };
            froms.push(format!(
                "(SELECT * FROM {} {inner} ORDER BY {} LIMIT {}) i",
                listing.from, listing.order, listing.window
            ));
        }
        froms.push(listing.from.to_string());
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let mut rows = vec![];
        for (k, from) in froms.iter().enumerate() {
            let sql = format!(
                "SELECT {} FROM {from} WHERE {clause} ORDER BY {} {}",
                crate::incident_rows::INCIDENT_COLS,
                listing.order,
                crate::rows::limit(page.fetch())
            );
            let mut q = crate::incidents::bind_viewer(
                Self::query_as::<crate::incident_rows::IncidentRow>(sqlx::AssertSqlSafe(sql)),
                viewer,
            );
            for a in args.iter().cloned() {
                q = crate::incidents::bind_arg(q, a);
            }
            rows = q.fetch_all(&mut *conn).await.map_err(&map)?;
            if rows.len() as i64 >= page.fetch() || k + 1 == froms.len() {
                break;
            }
        }
        let items = Self::incidents_from_rows(&mut conn, rows).await?;
        Ok(custos_core::page::Page::from_rows(items, page, |i| i.id.0))
    }

    async fn count_incidents(
        &self,
        viewer: &custos_core::ticket::Viewer,
        f: &custos_core::ticket::IncidentFilter,
    ) -> custos_core::error::StoreResult<i64> {
        if !f.text.is_empty() {
            B::search_caught_up(self).await?;
        }
        let (clause, args) = crate::incident_rows::filter_clause(
            f,
            |n| Self::incident_search(n),
            |t| Self::fts_query(t),
        );
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {clause}",
            Self::incident_listing(!f.text.is_empty()).from
        );
        let mut q = crate::incidents::bind_viewer(
            Self::query_as::<(i64,)>(sqlx::AssertSqlSafe(sql)),
            viewer,
        );
        for a in args {
            q = crate::incidents::bind_arg(q, a);
        }
        Ok(q.fetch_one(self)
            .await
            .map_err(crate::error::map("incident"))?
            .0)
    }

    async fn index_search(&self, max: u32) -> custos_core::error::StoreResult<u64> {
        B::index_search_behind(self, max).await
    }

    async fn visible_incidents(
        &self,
        viewer: &custos_core::ticket::Viewer,
        ids: &[custos_core::IncidentId],
    ) -> custos_core::error::StoreResult<Vec<custos_core::IncidentId>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT i.id FROM incidents i WHERE {} AND i.id IN ({})",
                crate::incident_rows::need_to_know(1),
                crate::rows::placeholders(5, chunk.len())
            );
            let mut q = crate::incidents::bind_viewer(
                Self::query_as::<(uuid::Uuid,)>(sqlx::AssertSqlSafe(sql)),
                viewer,
            );
            for id in chunk {
                q = q.bind(id.0);
            }
            let rows = q
                .fetch_all(self)
                .await
                .map_err(crate::error::map("incident"))?;
            out.extend(rows.into_iter().map(|(u,)| custos_core::IncidentId(u)));
        }
        Ok(out)
    }

    async fn incident_holds(
        &self,
        id: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<
        Vec<(custos_core::Timestamp, Option<custos_core::Timestamp>)>,
    > {
        let sql = format!(
            "SELECT {} FROM incidents i WHERE i.id = $1",
            crate::incident_rows::INCIDENT_COLS
        );
        let row: crate::incident_rows::IncidentRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("incident"))?;
        row.holds()
    }

    async fn incidents_due_for_clock(
        &self,
        now: custos_core::Timestamp,
        limit: u32,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Incident>> {
        let map = crate::error::map("incident");
        let sql = format!(
            "SELECT {} FROM incidents i WHERE i.clock_check_at IS NOT NULL AND i.clock_check_at <= $1 ORDER BY i.clock_check_at {}",
            crate::incident_rows::INCIDENT_COLS,
            crate::rows::limit(i64::from(limit))
        );
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let rows: Vec<crate::incident_rows::IncidentRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(&map)?;
        Self::incidents_from_rows(&mut conn, rows).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_clock(
        &self,
        id: custos_core::IncidentId,
        clock: Option<custos_core::sla_clock::Clock>,
        clock_check_at: Option<custos_core::Timestamp>,
        expected: custos_core::Timestamp,
        audit: Option<(&'static str, serde_json::Value)>,
        events: Vec<custos_core::notify::Event>,
        reminded: Option<custos_core::Timestamp>,
    ) -> custos_core::error::StoreResult<bool> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident");
        let mut tx = self.audited().await?;
        let sql = format!(
            "SELECT {} FROM incidents i WHERE i.id = $1 AND i.updated_at = $2",
            crate::incident_rows::INCIDENT_COLS
        );
        let Some(row): Option<crate::incident_rows::IncidentRow> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id.0)
                .bind(expected.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(&map)?
        else {
            return Ok(false);
        };
        let holds = row.holds()?;
        let mut inc = row.into_incident(Vec::new())?;
        inc.clock = clock;
        if let (Some(slot), Some(m)) = (reminded, inc.major.as_mut()) {
            m.reminded_for = Some(slot);
        }
        let detail = crate::incident_rows::Detail::of(&inc, &holds);
        let c = clock.as_ref();
        Self::query(
            "UPDATE incidents SET response_due_at = $2, resolution_due_at = $3, response_state = $4, resolution_state = $5, \
             clock_check_at = $6, detail = $7 WHERE id = $1",
        )
        .bind(id.0)
        .bind(c.and_then(|c| c.response.due_at).map(|t| t.0))
        .bind(c.and_then(|c| c.resolution.due_at).map(|t| t.0))
        .bind(c.map(|c| c.response.state.as_str()))
        .bind(c.map(|c| c.resolution.state.as_str()))
        .bind(clock_check_at.map(|t| t.0))
        .bind(serde_json::to_string(&detail).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        Self::write_events(&mut tx, &events, now).await?;
        if let Some((action, changes)) = audit {
            tx.record(
                &custos_core::authz::Actor::System("sla-clock"),
                custos_core::audit::AuditRecord::new(action, "incident", id, changes),
                now,
            );
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn refresh_sla_access(
        &self,
        actor: &custos_core::authz::Actor,
        service: custos_core::CiId,
        users: &[custos_core::UserId],
        roles: i64,
    ) -> custos_core::error::StoreResult<u64> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident access");
        let mut tx = self.audited().await?;
        // Idempotent: only what differs is written, so running it again (the
        // scheduler does, around an SLA's start) changes and audits nothing.
        let roles_changed = Self::query(
            "UPDATE incidents SET authorised_roles = $2 WHERE service_id = $1 AND authorised_roles <> $2",
        )
        .bind(service.0)
        .bind(roles)
        .execute(&mut *tx)
        .await
        .map_err(&map)?
        ;
        let keep = if users.is_empty() {
            String::new()
        } else {
            format!(
                " AND user_id NOT IN ({})",
                crate::rows::placeholders(2, users.len())
            )
        };
        let sql = format!(
            "DELETE FROM incident_access WHERE source = 'sla' AND incident_id IN \
             (SELECT id FROM incidents WHERE service_id = $1){keep}"
        );
        let mut q = Self::query(sqlx::AssertSqlSafe(sql)).bind(service.0);
        for u in users {
            q = q.bind(u.0);
        }
        let removed = q.execute(&mut *tx).await.map_err(&map)?;
        let mut added = 0;
        for chunk in users.chunks(crate::incidents::CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO incident_access (incident_id, user_id, source, added_by, added_at) \
                 SELECT i.id, u.column1, 'sla', NULL, $2 FROM incidents i CROSS JOIN (VALUES {}) AS u \
                 WHERE i.service_id = $1 ON CONFLICT DO NOTHING",
                crate::rows::value_lists_from(3, chunk.len(), 1)
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(sql))
                .bind(service.0)
                .bind(now.0);
            for u in chunk {
                q = q.bind(u.0);
            }
            added += q
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::parties::missing_ref("user")(map(e)))?;
        }
        let n = roles_changed + removed + added;
        let changes = serde_json::json!({
            "sla_authorised_users": {"after": users.iter().map(|u| u.to_string()).collect::<Vec<_>>()},
            "sla_authorised_roles": {"after": custos_core::ticket::roles_of_mask(roles).iter().map(|r| r.as_str()).collect::<Vec<_>>()},
            "incidents_roles_changed": roles_changed,
            "access_rows_removed": removed,
            "access_rows_added": added,
        });
        if n > 0 {
            tx.record(
                actor,
                custos_core::audit::AuditRecord::new("incident.sla_access", "ci", service, changes),
                now,
            );
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn incident_access(
        &self,
        id: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<(custos_core::UserId, String)>> {
        let rows: Vec<(uuid::Uuid, String)> = Self::query_as(
            "SELECT user_id, source FROM incident_access WHERE incident_id = $1 ORDER BY source, user_id",
        )
        .bind(id.0)
        .fetch_all(self)
        .await
        .map_err(crate::error::map("incident access"))?;
        Ok(rows
            .into_iter()
            .map(|(u, s)| (custos_core::UserId(u), s))
            .collect())
    }

    async fn grant_incident_access(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::IncidentId,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident access");
        let mut tx = self.audited().await?;
        Self::query("INSERT INTO incident_access (incident_id, user_id, source, added_by, added_at) VALUES ($1, $2, 'added', $3, $4)")
            .bind(id.0)
            .bind(user.0)
            .bind(actor.user_id().map(|u| u.0))
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::parties::missing_ref("incident or user")(map(e)))?;
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                "incident.access.grant",
                "incident",
                id,
                serde_json::json!({"user": user}),
            ),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_incident_access(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::IncidentId,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident access");
        let mut tx = self.audited().await?;
        let done = Self::query("DELETE FROM incident_access WHERE incident_id = $1 AND user_id = $2 AND source = 'added'")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("incident access"));
        }
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                "incident.access.revoke",
                "incident",
                id,
                serde_json::json!({"user": user}),
            ),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn link_incidents(
        &self,
        actor: &custos_core::authz::Actor,
        a: custos_core::IncidentId,
        b: custos_core::IncidentId,
        link: bool,
    ) -> custos_core::error::StoreResult<()> {
        if a == b {
            return Err(custos_core::DomainError::new(
                "incident",
                "an incident cannot be linked to itself",
            )
            .into());
        }
        let (lo, hi) = if a.0 < b.0 { (a, b) } else { (b, a) };
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("incident link");
        let mut tx = self.audited().await?;
        if link {
            Self::query("INSERT INTO incident_links (a, b, created_at) VALUES ($1, $2, $3)")
                .bind(lo.0)
                .bind(hi.0)
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::parties::missing_ref("incident")(map(e)))?;
        } else {
            let done = Self::query("DELETE FROM incident_links WHERE a = $1 AND b = $2")
                .bind(lo.0)
                .bind(hi.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
            if done == 0 {
                return Err(custos_core::StoreError::not_found("incident link"));
            }
        }
        let action = if link {
            "incident.link"
        } else {
            "incident.unlink"
        };
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                action,
                "incident",
                a,
                serde_json::json!({"other": b}),
            ),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn add_note(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        n: custos_core::ticket::NoteInput,
        status: custos_core::ticket::CommStatus,
        events: Vec<custos_core::notify::Event>,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Note> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("note");
        let id = custos_core::NoteId::new();
        let mut tx = self.audited().await?;
        let sent = (status == custos_core::ticket::CommStatus::Sent).then_some(now.0);
        Self::query(
            "INSERT INTO incident_notes (id, incident_id, kind, body, audience, recipient, status, author_id, created_at, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.0)
        .bind(incident.0)
        .bind(n.kind.as_str())
        .bind(&n.body)
        .bind(n.audience.map(|a| a.as_str()))
        .bind(&n.recipient)
        .bind(status.as_str())
        .bind(actor.user_id().map(|u| u.0))
        .bind(now.0)
        .bind(sent)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::parties::missing_ref("incident")(map(e)))?;
        Self::write_events(&mut tx, &events, now).await?;
        // The body stays out of the audit log (need-to-know); its hash goes in.
        let changes = serde_json::json!({
            "note": id,
            "kind": n.kind.as_str(),
            "audience": n.audience.map(|a| a.as_str()),
            "status": status.as_str(),
            "sha256": custos_core::secret::sha256_hex(n.body.as_bytes()),
        });
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("incident.note", "incident", incident, changes),
            now,
        );
        let sql = format!(
            "SELECT {} FROM incident_notes WHERE id = $1",
            crate::incident_rows::NOTE_COLS
        );
        let row: crate::incident_rows::NoteRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        tx.commit().await?;
        row.try_into()
    }

    async fn decide_note(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        note: custos_core::NoteId,
        approve: bool,
        reason: &str,
        events: Vec<custos_core::notify::Event>,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Note> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("note");
        let mut tx = self.audited().await?;
        let status = if approve { "sent" } else { "rejected" };
        let done = Self::query(
            "UPDATE incident_notes SET status = $3, decided_by = $4, decided_at = $5, decision_reason = $6, sent_at = $7 \
             WHERE id = $1 AND incident_id = $2 AND status = 'draft'",
        )
        .bind(note.0)
        .bind(incident.0)
        .bind(status)
        .bind(actor.user_id().map(|u| u.0))
        .bind(now.0)
        .bind(reason)
        .bind(approve.then_some(now.0))
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        let sql = format!(
            "SELECT {} FROM incident_notes WHERE id = $1 AND incident_id = $2",
            crate::incident_rows::NOTE_COLS
        );
        let row: crate::incident_rows::NoteRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(note.0)
            .bind(incident.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::Conflict {
                constraint: "note_not_draft".into(),
            });
        }
        Self::write_events(&mut tx, &events, now).await?;
        let action = if approve {
            "incident.communication.approve"
        } else {
            "incident.communication.reject"
        };
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                action,
                "incident",
                incident,
                serde_json::json!({"note": note, "status": status}),
            ),
            now,
        );
        tx.commit().await?;
        row.try_into()
    }

    async fn notes(
        &self,
        incident: custos_core::IncidentId,
        public_only: bool,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Note>> {
        let sql = format!(
            "SELECT {} FROM incident_notes WHERE incident_id = $1 AND ($2 = FALSE OR kind = 'public_comment') ORDER BY id LIMIT 5000",
            crate::incident_rows::NOTE_COLS
        );
        let rows: Vec<crate::incident_rows::NoteRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(incident.0)
            .bind(public_only)
            .fetch_all(self)
            .await
            .map_err(crate::error::map("note"))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn add_attachment(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        file_name: &str,
        content_type: &str,
        content: &[u8],
        evidence: bool,
        description: &str,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Attachment> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("attachment");
        let id = custos_core::AttachmentId::new();
        let sha = custos_core::secret::sha256_hex(content);
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO incident_attachments (id, incident_id, file_name, content_type, size, sha256, evidence, description, content, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.0)
        .bind(incident.0)
        .bind(file_name)
        .bind(content_type)
        .bind(content.len() as i64)
        .bind(&sha)
        .bind(evidence)
        .bind(description)
        .bind(content)
        .bind(actor.user_id().map(|u| u.0))
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::parties::missing_ref("incident")(map(e)))?;
        // The hash is chained into the audit log: evidence cannot change unnoticed.
        let action = if evidence {
            "incident.evidence"
        } else {
            "incident.attachment"
        };
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(
                action,
                "incident",
                incident,
                serde_json::json!({"attachment": id, "sha256": sha, "size": content.len()}),
            ),
            now,
        );
        let sql = format!(
            "SELECT {} FROM incident_attachments WHERE id = $1",
            crate::incident_rows::ATTACHMENT_COLS
        );
        let row: crate::incident_rows::AttachmentRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        tx.commit().await?;
        Ok(row.into())
    }

    async fn attachments(
        &self,
        incident: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Attachment>> {
        let sql = format!(
            "SELECT {} FROM incident_attachments WHERE incident_id = $1 ORDER BY id",
            crate::incident_rows::ATTACHMENT_COLS
        );
        let rows: Vec<crate::incident_rows::AttachmentRow> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
                .bind(incident.0)
                .fetch_all(self)
                .await
                .map_err(crate::error::map("attachment"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn attachment_content(
        &self,
        incident: custos_core::IncidentId,
        id: custos_core::AttachmentId,
    ) -> custos_core::error::StoreResult<(custos_core::ticket::Attachment, Vec<u8>)> {
        let map = crate::error::map("attachment");
        let sql = format!(
            "SELECT {} FROM incident_attachments WHERE id = $1 AND incident_id = $2",
            crate::incident_rows::ATTACHMENT_COLS
        );
        let row: crate::incident_rows::AttachmentRow = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(incident.0)
            .fetch_one(self)
            .await
            .map_err(&map)?;
        let (content,): (Vec<u8>,) =
            Self::query_as("SELECT content FROM incident_attachments WHERE id = $1")
                .bind(id.0)
                .fetch_one(self)
                .await
                .map_err(&map)?;
        Ok((row.into(), content))
    }

    async fn add_action(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        kind: custos_core::procedure::ActionKind,
        body: &str,
        ci: Option<custos_core::CiId>,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Action> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("action");
        let id = custos_core::ActionId::new();
        let mut tx = self.audited().await?;
        Self::query("INSERT INTO incident_actions (id, incident_id, kind, body, ci_id, by_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.0)
            .bind(incident.0)
            .bind(kind.as_str())
            .bind(body)
            .bind(ci.map(|c| c.0))
            .bind(actor.user_id().map(|u| u.0))
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::parties::missing_ref("incident or CI")(map(e)))?;
        tx.record(actor, custos_core::audit::AuditRecord::new(
                "incident.action",
                "incident",
                incident,
                serde_json::json!({"action": id, "kind": kind.as_str(), "ci": ci, "sha256": custos_core::secret::sha256_hex(body.as_bytes())})
            ), now);
        tx.commit().await?;
        Ok(custos_core::ticket::Action {
            id,
            incident,
            kind,
            body: body.to_string(),
            ci,
            by: actor.user_id(),
            at: now,
        })
    }

    async fn actions(
        &self,
        incident: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Action>> {
        let rows: Vec<crate::incident_rows::ActionRow> = Self::query_as(
            "SELECT id, incident_id, kind, body, ci_id, by_id, at FROM incident_actions WHERE incident_id = $1 ORDER BY id LIMIT 5000",
        )
        .bind(incident.0)
        .fetch_all(self)
        .await
        .map_err(crate::error::map("action"))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn save_filter(
        &self,
        user: custos_core::UserId,
        name: &str,
        query: &str,
    ) -> custos_core::error::StoreResult<custos_core::ticket::SavedFilter> {
        let id = custos_core::FilterId::new();
        let now = custos_core::Timestamp::now();
        Self::query("INSERT INTO saved_filters (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.0)
            .bind(user.0)
            .bind(name)
            .bind(query)
            .bind(now.0)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("saved filter"))?;
        Ok(custos_core::ticket::SavedFilter {
            id,
            name: name.to_string(),
            query: query.to_string(),
            created_at: now,
        })
    }

    async fn filters(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::SavedFilter>> {
        let rows: Vec<crate::incident_rows::FilterRow> =
            Self::query_as("SELECT id, name, query, created_at FROM saved_filters WHERE user_id = $1 ORDER BY name LIMIT 200")
                .bind(user.0)
                .fetch_all(self)
                .await
                .map_err(crate::error::map("saved filter"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_filter(
        &self,
        user: custos_core::UserId,
        id: custos_core::FilterId,
    ) -> custos_core::error::StoreResult<()> {
        let done = Self::query("DELETE FROM saved_filters WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("saved filter"))?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("saved filter"));
        }
        Ok(())
    }

    async fn failed_implementations(
        &self,
        cis: &[custos_core::CiId],
    ) -> custos_core::error::StoreResult<Vec<(custos_core::CiId, custos_core::ControlId, String)>>
    {
        if cis.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT im.ci_id, im.control_ref, k.label FROM implementations im JOIN controls k ON k.id = im.control_ref \
             WHERE im.status = 'failed' AND im.ci_id IN ({}) ORDER BY im.ci_id, k.label",
            crate::rows::placeholders(1, cis.len())
        );
        let mut q = Self::query_as::<(uuid::Uuid, uuid::Uuid, String)>(sqlx::AssertSqlSafe(sql));
        for c in cis {
            q = q.bind(c.0);
        }
        let rows = q
            .fetch_all(self)
            .await
            .map_err(crate::error::map("implementation"))?;
        Ok(rows
            .into_iter()
            .map(|(c, k, l)| (custos_core::CiId(c), custos_core::ControlId(k), l))
            .collect())
    }

    async fn incident_stats(
        &self,
        service: custos_core::CiId,
        from: custos_core::Timestamp,
        to: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::store::IncidentStats> {
        use futures_util::TryStreamExt;
        let map = crate::error::map("incident");
        let actions: Vec<(uuid::Uuid, i64)> = Self::query_as(
            "SELECT a.incident_id, MIN(a.at) FROM incident_actions a JOIN incidents i ON i.id = a.incident_id \
             WHERE i.service_id = $1 AND a.kind IN ('ci_isolated', 'ci_recovered', 'containment_action') GROUP BY a.incident_id",
        )
        .bind(service.0)
        .fetch_all(self)
        .await
        .map_err(&map)?;
        let contained: Vec<_> = actions
            .into_iter()
            .map(|(i, t)| (custos_core::IncidentId(i), custos_core::Timestamp(t)))
            .collect();
        let mut tally = custos_core::ticket_stats::Tally::new(&contained, from, to);
        // Streamed: a busy service has tens of thousands of incidents in a period,
        // which as one result would take tens of MiB at once.
        let sql = format!(
            "SELECT {} FROM incidents i WHERE i.service_id = $1 AND i.created_at < $3 AND (i.closed_at IS NULL OR i.closed_at >= $2) \
             AND (i.resolved_at IS NULL OR i.resolved_at >= $2 OR i.created_at >= $2) ORDER BY i.id",
            crate::incident_rows::INCIDENT_COLS
        );
        let mut rows =
            Self::query_as::<crate::incident_rows::IncidentRow>(sqlx::AssertSqlSafe(sql))
                .bind(service.0)
                .bind(from.0)
                .bind(to.0)
                .fetch(self);
        while let Some(r) = rows.try_next().await.map_err(&map)? {
            tally.add(&r.into_incident(Vec::new())?);
        }
        Ok(tally.finish())
    }

    async fn pending_events(
        &self,
        limit: u32,
    ) -> custos_core::error::StoreResult<
        Vec<(
            custos_core::EventId,
            custos_core::Timestamp,
            custos_core::notify::Event,
        )>,
    > {
        let sql = format!(
            "SELECT id, at, event FROM notification_events WHERE dispatched_at IS NULL ORDER BY at, id {}",
            crate::rows::limit(i64::from(limit))
        );
        let rows: Vec<(uuid::Uuid, i64, String)> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self)
            .await
            .map_err(crate::error::map("notification event"))?;
        rows.into_iter()
            .map(|(id, at, e)| {
                Ok((
                    custos_core::EventId(id),
                    custos_core::Timestamp(at),
                    crate::parties::parse_json("notification event", &e)?,
                ))
            })
            .collect()
    }

    async fn mark_dispatched(
        &self,
        ids: &[custos_core::EventId],
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE notification_events SET dispatched_at = $1 WHERE id IN ({})",
            crate::rows::placeholders(2, ids.len())
        );
        let mut q = Self::query(sqlx::AssertSqlSafe(sql)).bind(now.0);
        for id in ids {
            q = q.bind(id.0);
        }
        q.execute(self.writer())
            .await
            .map_err(crate::error::map("notification event"))?;
        Ok(())
    }
}
