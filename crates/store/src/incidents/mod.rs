//! `IncidentStore`: support groups, incidents (batched creation for group commit,
//! optimistic saves), need-to-know reads, the communications log, attachments and
//! evidence, procedure steps, links, saved filters, report aggregates and the notification
//! outbox. Row shapes and the need-to-know predicate are in `rows.rs`; the trait's methods
//! are implemented here and in the files beside it.

mod access;
mod comms;
mod groups;
mod parts;
mod reads;
pub(crate) mod rows;
mod write;

pub(crate) use crate::sql::CHUNK_ROWS;
pub(crate) use write::*;

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::IncidentStore for crate::sql::SqlStore<B> {
    async fn create_group(
        &self,
        actor: &custos_core::authz::Actor,
        g: custos_core::ticket::GroupInput,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        groups::create_group(self, actor, g).await
    }

    async fn update_group(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::GroupId,
        g: custos_core::ticket::GroupInput,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        groups::update_group(self, actor, id, g).await
    }

    async fn delete_group(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::GroupId,
    ) -> custos_core::error::StoreResult<()> {
        groups::delete_group(self, actor, id).await
    }

    async fn group(
        &self,
        id: custos_core::GroupId,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        groups::group(self, id).await
    }

    async fn list_groups(
        &self,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Group>> {
        groups::list_groups(self).await
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
        let per = crate::incidents::rows::INSERT_NCOLS;
        let mut done = 0usize;
        for chunk in batch.chunks(400) {
            let values: Vec<String> = (0..chunk.len())
                .map(|k| format!("({})", crate::rows::placeholders(1 + k * per, per)))
                .collect();
            let sql = format!(
                "INSERT INTO incidents ({}) VALUES {}",
                crate::incidents::rows::INSERT_COLS,
                values.join(", ")
            );
            let mut q = Self::query(sqlx::AssertSqlSafe(Self::params(sql)));
            for (k, w) in chunk.iter().enumerate() {
                q = crate::incidents::bind_incident(q, w, numbers[done + k]);
            }
            q.execute(&mut *tx).await.map_err(|e| {
                crate::service_levels::rows::missing_ref("service, CI, group, user or SLA")(map(e))
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
        let sets: Vec<String> = crate::incidents::rows::INSERT_COLS
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
            crate::incidents::rows::INSERT_NCOLS + 1
        );
        let q = Self::query(sqlx::AssertSqlSafe(sql));
        let q = crate::incidents::bind_incident(q, &w, w.incident.number);
        let done = q.bind(expected.0).execute(&mut *tx).await.map_err(|e| {
            crate::service_levels::rows::missing_ref("service, CI, group, user or SLA")(map(e))
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
        self.incident_where(viewer, "i.id = $5", crate::incidents::rows::Arg::Uuid(id.0))
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
            crate::incidents::rows::Arg::I64(number),
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
        let (mut clause, mut args) = crate::incidents::rows::filter_clause(
            f,
            |n| Self::incident_search(n),
            |t| Self::fts_query(t),
        );
        let listing = Self::incident_listing(!f.text.is_empty());
        let mut after_cond = String::new();
        if let Some(after) = page.after {
            args.push(crate::incidents::rows::Arg::Uuid(after));
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
                crate::incidents::rows::INCIDENT_COLS,
                listing.order,
                crate::rows::limit(page.fetch())
            );
            let mut q = crate::incidents::bind_viewer(
                Self::query_as::<crate::incidents::rows::IncidentRow>(sqlx::AssertSqlSafe(sql)),
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
        let (clause, args) = crate::incidents::rows::filter_clause(
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
                crate::incidents::rows::need_to_know(1),
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
            crate::incidents::rows::INCIDENT_COLS
        );
        let row: crate::incidents::rows::IncidentRow = Self::query_as(sqlx::AssertSqlSafe(sql))
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
            crate::incidents::rows::INCIDENT_COLS,
            crate::rows::limit(i64::from(limit))
        );
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let rows: Vec<crate::incidents::rows::IncidentRow> =
            Self::query_as(sqlx::AssertSqlSafe(sql))
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
        access::save_clock(
            self,
            id,
            clock,
            clock_check_at,
            expected,
            audit,
            events,
            reminded,
        )
        .await
    }

    async fn refresh_sla_access(
        &self,
        actor: &custos_core::authz::Actor,
        service: custos_core::CiId,
        users: &[custos_core::UserId],
        roles: i64,
    ) -> custos_core::error::StoreResult<u64> {
        access::refresh_sla_access(self, actor, service, users, roles).await
    }

    async fn incident_access(
        &self,
        id: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<(custos_core::UserId, String)>> {
        access::incident_access(self, id).await
    }

    async fn grant_incident_access(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::IncidentId,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<()> {
        access::grant_incident_access(self, actor, id, user).await
    }

    async fn revoke_incident_access(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::IncidentId,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<()> {
        access::revoke_incident_access(self, actor, id, user).await
    }

    async fn link_incidents(
        &self,
        actor: &custos_core::authz::Actor,
        a: custos_core::IncidentId,
        b: custos_core::IncidentId,
        link: bool,
    ) -> custos_core::error::StoreResult<()> {
        access::link_incidents(self, actor, a, b, link).await
    }

    async fn add_note(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        n: custos_core::ticket::NoteInput,
        status: custos_core::ticket::CommStatus,
        events: Vec<custos_core::notify::Event>,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Note> {
        comms::add_note(self, actor, incident, n, status, events).await
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
        comms::decide_note(self, actor, incident, note, approve, reason, events).await
    }

    async fn notes(
        &self,
        incident: custos_core::IncidentId,
        public_only: bool,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Note>> {
        comms::notes(self, incident, public_only).await
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
        comms::add_attachment(
            self,
            actor,
            incident,
            file_name,
            content_type,
            content,
            evidence,
            description,
        )
        .await
    }

    async fn attachments(
        &self,
        incident: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Attachment>> {
        comms::attachments(self, incident).await
    }

    async fn attachment_content(
        &self,
        incident: custos_core::IncidentId,
        id: custos_core::AttachmentId,
    ) -> custos_core::error::StoreResult<(custos_core::ticket::Attachment, Vec<u8>)> {
        comms::attachment_content(self, incident, id).await
    }

    async fn add_action(
        &self,
        actor: &custos_core::authz::Actor,
        incident: custos_core::IncidentId,
        kind: custos_core::procedure::ActionKind,
        body: &str,
        ci: Option<custos_core::CiId>,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Action> {
        comms::add_action(self, actor, incident, kind, body, ci).await
    }

    async fn actions(
        &self,
        incident: custos_core::IncidentId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Action>> {
        comms::actions(self, incident).await
    }

    async fn save_filter(
        &self,
        user: custos_core::UserId,
        name: &str,
        query: &str,
    ) -> custos_core::error::StoreResult<custos_core::ticket::SavedFilter> {
        groups::save_filter(self, user, name, query).await
    }

    async fn filters(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::SavedFilter>> {
        groups::filters(self, user).await
    }

    async fn delete_filter(
        &self,
        user: custos_core::UserId,
        id: custos_core::FilterId,
    ) -> custos_core::error::StoreResult<()> {
        groups::delete_filter(self, user, id).await
    }

    async fn failed_implementations(
        &self,
        cis: &[custos_core::CiId],
    ) -> custos_core::error::StoreResult<Vec<(custos_core::CiId, custos_core::ControlId, String)>>
    {
        reads::failed_implementations(self, cis).await
    }

    async fn incident_stats(
        &self,
        service: custos_core::CiId,
        from: custos_core::Timestamp,
        to: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::store::IncidentStats> {
        reads::incident_stats(self, service, from, to).await
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
        reads::pending_events(self, limit).await
    }

    async fn mark_dispatched(
        &self,
        ids: &[custos_core::EventId],
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        reads::mark_dispatched(self, ids, now).await
    }
}
