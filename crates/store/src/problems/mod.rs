//! `ProblemStore`: problems (numbered on creation, optimistic saves), their affected CIs,
//! the history of security reviews (only ever added to), links to incidents and the
//! need-to-know read of linked incidents. Row shapes are in `rows.rs`.

pub(crate) mod rows;

/// Binds a problem's 19 insert columns (see `problem_rows::INSERT_COLS`).
pub(crate) fn bind_problem<Q: crate::sql::Bind>(
    q: Q,
    p: &custos_core::problem::Problem,
    number: i64,
) -> Q {
    q.bind(p.id.0)
        .bind(number)
        .bind(p.title.as_str())
        .bind(p.description.as_str())
        .bind(p.status.as_str())
        .bind(p.service.map(|c| c.0))
        .bind(p.assignee.map(|u| u.0))
        .bind(p.introduces_security_risk)
        .bind(p.root_cause.as_str())
        .bind(p.workaround.text.as_str())
        .bind(p.workaround.state.as_str())
        .bind(p.solution.text.as_str())
        .bind(p.solution.state.as_str())
        .bind(crate::problems::rows::Detail::json(p))
        .bind(p.created_by.map(|u| u.0))
        .bind(p.created_at.0)
        .bind(p.updated_at.0)
        .bind(p.resolved_at.map(|t| t.0))
        .bind(p.closed_at.map(|t| t.0))
}

/// Binds dynamically built arguments in order.
pub(crate) fn bind_args<Q: crate::sql::Bind>(
    mut q: Q,
    args: impl IntoIterator<Item = crate::incidents::rows::Arg>,
) -> Q {
    for a in args {
        q = crate::incidents::bind_arg(q, a);
    }
    q
}

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    async fn problems_from_rows(
        conn: &mut <B::Db as sqlx::Database>::Connection,
        rows: Vec<crate::problems::rows::ProblemRow>,
    ) -> custos_core::error::StoreResult<Vec<custos_core::problem::Problem>> {
        let mut cis: std::collections::HashMap<uuid::Uuid, Vec<custos_core::CiId>> =
            std::collections::HashMap::new();
        if !rows.is_empty() {
            let sql = format!(
                "SELECT problem_id, ci_id FROM problem_cis WHERE problem_id IN ({}) ORDER BY ci_id",
                crate::rows::placeholders(1, rows.len())
            );
            let mut q = Self::query_as::<(uuid::Uuid, uuid::Uuid)>(sqlx::AssertSqlSafe(sql));
            for r in &rows {
                q = q.bind(r.id());
            }
            for (p, c) in q
                .fetch_all(&mut *conn)
                .await
                .map_err(crate::error::map("problem"))?
            {
                cis.entry(p).or_default().push(custos_core::CiId(c));
            }
        }
        rows.into_iter()
            .map(|r| {
                let c = cis.remove(&r.id()).unwrap_or_default();
                r.into_problem(c)
            })
            .collect()
    }

    /// One problem by a condition on `p` whose value is `$1`.
    async fn problem_where(
        &self,
        cond: &str,
        value: crate::incidents::rows::Arg,
    ) -> custos_core::error::StoreResult<custos_core::problem::Problem> {
        let map = crate::error::map("problem");
        let sql = format!(
            "SELECT {} FROM problems p WHERE {cond}",
            crate::problems::rows::PROBLEM_COLS
        );
        let q = Self::query_as::<crate::problems::rows::ProblemRow>(sqlx::AssertSqlSafe(sql));
        let q = crate::problems::bind_args(q, [value]);
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let row = q.fetch_one(&mut *conn).await.map_err(&map)?;
        Ok(Self::problems_from_rows(&mut conn, vec![row])
            .await?
            .remove(0))
    }

    /// Writes the satellite rows of a problem write: CIs, the review, the events
    /// and the audit entry.
    async fn write_problem_parts(
        tx: &mut crate::sql::AuditedTx<B>,
        w: &custos_core::store::ProblemWrite,
        replace: bool,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("problem");
        let id = w.problem.id.0;
        if replace {
            Self::query("DELETE FROM problem_cis WHERE problem_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(&map)?;
        }
        for c in &w.problem.cis {
            Self::query("INSERT INTO problem_cis (problem_id, ci_id) VALUES ($1, $2)")
                .bind(id)
                .bind(c.0)
                .execute(&mut **tx)
                .await
                .map_err(|e| crate::service_levels::rows::missing_ref("CI")(map(e)))?;
        }
        if let Some(r) = &w.review {
            Self::query(
                "INSERT INTO problem_reviews (id, problem_id, fix, decision, reviewer_id, at, text_sha256, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(id)
            .bind(r.fix.as_str())
            .bind(r.decision.as_str())
            .bind(r.reviewer.map(|u| u.0))
            .bind(r.at.0)
            .bind(&r.text_sha256)
            .bind(serde_json::to_string(r).unwrap_or_default())
            .execute(&mut **tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("user")(map(e)))?;
        }
        Self::write_events(tx, &w.events, now).await?;
        tx.record(
            &w.actor,
            custos_core::audit::AuditRecord::new(
                w.audit_action,
                "problem",
                w.problem.id,
                w.changes.clone(),
            ),
            now,
        );
        Ok(())
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::ProblemStore for crate::sql::SqlStore<B> {
    async fn create_problem(
        &self,
        w: custos_core::store::ProblemWrite,
    ) -> custos_core::error::StoreResult<custos_core::problem::Problem> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("problem");
        let mut tx = self.audited().await?;
        let number = self.next_problem_number(&mut tx).await?;
        let sql = format!(
            "INSERT INTO problems ({}) VALUES ({})",
            crate::problems::rows::INSERT_COLS,
            crate::rows::placeholders(1, crate::problems::rows::INSERT_NCOLS)
        );
        let q = Self::query(sqlx::AssertSqlSafe(sql));
        crate::problems::bind_problem(q, &w.problem, number)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("service, CI or user")(map(e)))?;
        let mut p = w.problem.clone();
        p.number = number;
        p.reference = custos_core::problem::reference(number);
        let mut w = w;
        // The audit entry and the events name the reference the problem got.
        if let Some(obj) = w.changes.as_object_mut()
            && let Some(r) = obj.get_mut("reference")
        {
            *r = serde_json::json!({"after": p.reference});
        }
        let id = p.id.to_string();
        for e in w
            .events
            .iter_mut()
            .filter(|e| e.entity_id == id && e.reference.is_empty())
        {
            e.reference = p.reference.clone();
        }
        w.problem = p.clone();
        Self::write_problem_parts(&mut tx, &w, false, now).await?;
        tx.commit().await?;
        Ok(p)
    }

    async fn save_problem(
        &self,
        mut w: custos_core::store::ProblemWrite,
        expected: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::problem::Problem> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("problem");
        // Strictly later than what the caller read, so a concurrent save always notices.
        w.problem.updated_at = custos_core::Timestamp(w.problem.updated_at.0.max(expected.0 + 1));
        let mut tx = self.audited().await?;
        let sets: Vec<String> = crate::problems::rows::INSERT_COLS
            .split(", ")
            .enumerate()
            .filter(|(_, c)| !matches!(*c, "id" | "number" | "created_by" | "created_at"))
            .map(|(k, c)| format!("{c} = ${}", k + 1))
            .collect();
        let sql = format!(
            "UPDATE problems SET {} WHERE id = $1 AND updated_at = ${}",
            sets.join(", "),
            crate::problems::rows::INSERT_NCOLS + 1
        );
        let q = Self::query(sqlx::AssertSqlSafe(sql));
        let done = crate::problems::bind_problem(q, &w.problem, w.problem.number)
            .bind(expected.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("service, CI or user")(map(e)))?;
        if done == 0 {
            let exists: Option<(i64,)> =
                Self::query_as("SELECT updated_at FROM problems WHERE id = $1")
                    .bind(w.problem.id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(&map)?;
            return Err(match exists {
                Some(_) => custos_core::StoreError::Conflict {
                    constraint: "problem_version".into(),
                },
                None => custos_core::StoreError::not_found("problem"),
            });
        }
        Self::write_problem_parts(&mut tx, &w, true, now).await?;
        tx.commit().await?;
        Ok(w.problem)
    }

    async fn problem(
        &self,
        id: custos_core::ProblemId,
    ) -> custos_core::error::StoreResult<custos_core::problem::Problem> {
        self.problem_where("p.id = $1", crate::incidents::rows::Arg::Uuid(id.0))
            .await
    }

    async fn problem_by_number(
        &self,
        number: i64,
    ) -> custos_core::error::StoreResult<custos_core::problem::Problem> {
        self.problem_where("p.number = $1", crate::incidents::rows::Arg::I64(number))
            .await
    }

    async fn list_problems(
        &self,
        f: &custos_core::problem::ProblemFilter,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::problem::Problem>>
    {
        let map = crate::error::map("problem");
        let (mut clause, mut args) = crate::problems::rows::filter_clause(
            f,
            |n| Self::problem_search(n),
            |t| Self::fts_query(t),
        );
        if let Some(after) = page.after {
            args.push(crate::incidents::rows::Arg::Uuid(after));
            clause.push_str(&format!(" AND p.id < ${}", args.len()));
        }
        let sql = format!(
            "SELECT {} FROM problems p WHERE {clause} ORDER BY p.id DESC {}",
            crate::problems::rows::PROBLEM_COLS,
            crate::rows::limit(page.fetch())
        );
        let q = Self::query_as::<crate::problems::rows::ProblemRow>(sqlx::AssertSqlSafe(sql));
        let q = crate::problems::bind_args(q, args);
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let rows = q.fetch_all(&mut *conn).await.map_err(&map)?;
        let items = Self::problems_from_rows(&mut conn, rows).await?;
        Ok(custos_core::page::Page::from_rows(items, page, |p| p.id.0))
    }

    async fn count_problems(
        &self,
        f: &custos_core::problem::ProblemFilter,
    ) -> custos_core::error::StoreResult<i64> {
        let (clause, args) = crate::problems::rows::filter_clause(
            f,
            |n| Self::problem_search(n),
            |t| Self::fts_query(t),
        );
        let sql = format!("SELECT COUNT(*) FROM problems p WHERE {clause}");
        let q = Self::query_as::<(i64,)>(sqlx::AssertSqlSafe(sql));
        let (n,) = crate::problems::bind_args(q, args)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("problem"))?;
        Ok(n)
    }

    async fn problem_reviews(
        &self,
        id: custos_core::ProblemId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::problem::Review>> {
        let rows: Vec<(String,)> = Self::query_as(
            "SELECT record FROM problem_reviews WHERE problem_id = $1 ORDER BY at, id LIMIT 1000",
        )
        .bind(id.0)
        .fetch_all(self)
        .await
        .map_err(crate::error::map("problem review"))?;
        rows.into_iter()
            .map(|(r,)| crate::service_levels::rows::parse_json("problem review", &r))
            .collect()
    }

    async fn link_problem_incident(
        &self,
        actor: &custos_core::authz::Actor,
        problem: custos_core::ProblemId,
        incident: custos_core::IncidentId,
        link: bool,
    ) -> custos_core::error::StoreResult<bool> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("problem link");
        let mut tx = self.audited().await?;
        let changed = if link {
            Self::query(
                "INSERT INTO problem_incidents (problem_id, incident_id, linked_by, linked_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (problem_id, incident_id) DO NOTHING",
            )
            .bind(problem.0)
            .bind(incident.0)
            .bind(actor.user_id().map(|u| u.0))
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::service_levels::rows::missing_ref("problem or incident")(map(e)))?

                > 0
        } else {
            let done = Self::query(
                "DELETE FROM problem_incidents WHERE problem_id = $1 AND incident_id = $2",
            )
            .bind(problem.0)
            .bind(incident.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
            if done == 0 {
                return Err(custos_core::StoreError::not_found("problem link"));
            }
            true
        };
        if changed {
            let action = if link {
                "problem.incident.link"
            } else {
                "problem.incident.unlink"
            };
            tx.record(
                actor,
                custos_core::audit::AuditRecord::new(
                    action,
                    "problem",
                    problem,
                    serde_json::json!({"incident": incident}),
                ),
                now,
            );
        }
        tx.commit_if_recorded().await?;
        Ok(changed)
    }

    async fn linked_incidents(
        &self,
        viewer: &custos_core::ticket::Viewer,
        problem: custos_core::ProblemId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::ticket::Incident>> {
        let map = crate::error::map("incident");
        let sql = format!(
            "SELECT {} FROM incidents i JOIN problem_incidents pi ON pi.incident_id = i.id \
             WHERE pi.problem_id = $5 AND {} ORDER BY i.number LIMIT 1000",
            crate::incidents::rows::INCIDENT_COLS,
            crate::incidents::rows::need_to_know(1)
        );
        let q = Self::query_as::<crate::incidents::rows::IncidentRow>(sqlx::AssertSqlSafe(sql))
            .bind(viewer.user.0)
            .bind(viewer.security_team)
            .bind(viewer.role_mask)
            .bind(viewer.own_only)
            .bind(problem.0);
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let rows = q.fetch_all(&mut *conn).await.map_err(&map)?;
        Self::incidents_from_rows(&mut conn, rows).await
    }
}
