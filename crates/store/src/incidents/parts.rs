//! Reading an incident with its CIs, and writing the parts of an incident write beside its
//! row: CIs, holds, outbox events, the audit record; support groups.

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    pub(crate) async fn incident_cis_of(
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
        rows: Vec<crate::incidents::rows::IncidentRow>,
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
    pub(crate) async fn incident_where(
        &self,
        viewer: &custos_core::ticket::Viewer,
        cond: &str,
        value: crate::incidents::rows::Arg,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Incident> {
        let map = crate::error::map("incident");
        let sql = format!(
            "SELECT {}, {} AS ci_list, {} AS link_list FROM incidents i WHERE {} AND {cond}",
            crate::incidents::rows::INCIDENT_COLS,
            Self::uuid_list("SELECT ci_id AS x FROM incident_cis WHERE incident_id = i.id"),
            // Only the linked incidents the viewer may see (need-to-know).
            Self::uuid_list(&format!(
                "SELECT l.id AS x FROM incidents l WHERE l.id IN \
                 (SELECT b FROM incident_links WHERE a = i.id UNION SELECT a FROM incident_links WHERE b = i.id) \
                 AND {}",
                crate::incidents::rows::need_to_know_of("l", 1)
            )),
            crate::incidents::rows::need_to_know(1)
        );
        let q = crate::incidents::bind_viewer(
            Self::query_as::<crate::incidents::rows::IncidentFullRow>(sqlx::AssertSqlSafe(sql)),
            viewer,
        );
        let q = crate::incidents::bind_arg(q, value);
        q.fetch_one(self).await.map_err(&map)?.into_incident()
    }

    /// Writes the satellite rows of incident writes: CIs, the SLA's authorised
    /// users, the audit entries and the events, each kind as multi-row inserts (a
    /// batch of creates costs a handful of statements, not a handful per incident).
    pub(crate) async fn write_incident_parts(
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
                .map_err(|e| crate::service_levels::rows::missing_ref("CI")(map(e)))?;
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

    pub(crate) async fn group_in(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        id: uuid::Uuid,
    ) -> custos_core::error::StoreResult<custos_core::ticket::Group> {
        let map = crate::error::map("group");
        let row: crate::incidents::rows::GroupRow = Self::query_as(
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

    pub(crate) async fn write_group(
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
            .map_err(|e| crate::service_levels::rows::missing_ref("user")(map(e)))?;
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
                .map_err(|e| crate::service_levels::rows::missing_ref("user")(map(e)))?;
        }
        let after = Self::group_in(&mut tx, id.0).await?;
        let changes = custos_core::audit::diff(
            before
                .as_ref()
                .map(crate::service_levels::rows::json_of)
                .as_ref(),
            Some(&crate::service_levels::rows::json_of(&after)),
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
