//! Authentication state: login failures, TOTP and recovery codes, web sessions, API tokens.

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::AuthStore for crate::sql::SqlStore<B> {
    async fn record_login_failure(
        &self,
        email: &str,
        user: Option<custos_core::UserId>,
        reason: &str,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let mut tx = self.audited().await?;
        let (etype, eid) = match user {
            Some(u) => ("user", u.to_string()),
            None => ("account", email.to_string()),
        };
        let rec = custos_core::audit::AuditRecord {
            action: "auth.login_failed".into(),
            entity_type: etype,
            entity_id: eid,
            changes: serde_json::json!({"email": email, "reason": reason}),
        };
        tx.record(&custos_core::authz::Actor::Anonymous, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn register_login_attempt(
        &self,
        email: &str,
        now: custos_core::Timestamp,
        since: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<(uuid::Uuid, i64)> {
        let map = crate::error::map("login attempt");
        let id = uuid::Uuid::now_v7();
        // Committed on its own before counting, so concurrent attempts count each other.
        Self::query("INSERT INTO login_failures (id, email, at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(email)
            .bind(now.0)
            .execute(self.writer())
            .await
            .map_err(&map)?;
        let (n,): (i64,) =
            Self::query_as("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $2")
                .bind(email)
                .bind(since.0)
                .fetch_one(self)
                .await
                .map_err(&map)?;
        Ok((id, n))
    }

    async fn clear_login_attempt(&self, id: uuid::Uuid) -> custos_core::error::StoreResult<()> {
        Self::query("DELETE FROM login_failures WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("login attempt"))?;
        Ok(())
    }

    async fn login_failures_since(
        &self,
        email: &str,
        since: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<i64> {
        let (n,): (i64,) =
            Self::query_as("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at >= $2")
                .bind(email)
                .bind(since.0)
                .fetch_one(self)
                .await
                .map_err(crate::error::map("login failure"))?;
        Ok(n)
    }

    async fn record_login_throttled(
        &self,
        email: &str,
        user: Option<custos_core::UserId>,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let mut tx = self.audited().await?;
        let (etype, eid) = match user {
            Some(u) => ("user", u.to_string()),
            None => ("account", email.to_string()),
        };
        let rec = custos_core::audit::AuditRecord {
            action: "auth.login_throttled".into(),
            entity_type: etype,
            entity_id: eid,
            changes: serde_json::json!({"email": email}),
        };
        tx.record(&custos_core::authz::Actor::Anonymous, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn record_login_success(
        &self,
        user: &custos_core::account::User,
        method: &str,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("audit entry");
        let mut tx = self.audited().await?;
        Self::query("DELETE FROM login_failures WHERE email = $1")
            .bind(user.email.as_str())
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let actor = custos_core::authz::Actor::authenticating(user.id, user.email.clone());
        let rec = custos_core::audit::AuditRecord::new(
            "auth.login",
            "user",
            user.id,
            serde_json::json!({"method": method}),
        );
        tx.record(&actor, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn set_pending_totp(
        &self,
        actor: &custos_core::authz::Actor,
        user: custos_core::UserId,
        secret: &custos_core::secret::Secret,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        let done = Self::query("UPDATE users SET totp_pending_secret = $2 WHERE id = $1")
            .bind(user.0)
            .bind(secret.expose())
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("user"));
        }
        let rec = custos_core::audit::AuditRecord::new(
            "mfa.enrolment_started",
            "user",
            user,
            serde_json::json!({}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn pending_totp(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<Option<custos_core::secret::Secret>> {
        let (s,): (Option<String>,) =
            Self::query_as("SELECT totp_pending_secret FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_one(self)
                .await
                .map_err(crate::error::map("user"))?;
        Ok(s.map(custos_core::secret::Secret::new))
    }

    async fn confirm_totp(
        &self,
        actor: &custos_core::authz::Actor,
        user: custos_core::UserId,
        step: i64,
        recovery_hashes: Vec<String>,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        let done = Self::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_last_step = $2, updated_at = $3 WHERE id = $1 AND totp_pending_secret IS NOT NULL",
        )
        .bind(user.0)
        .bind(step)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("pending MFA enrolment"));
        }
        Self::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        for h in &recovery_hashes {
            Self::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user.0)
                .bind(h)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
        }
        let rec = custos_core::audit::AuditRecord::new(
            "mfa.enrol",
            "user",
            user,
            serde_json::json!({"mfa_enabled": {"before": false, "after": true}, "recovery_codes": recovery_hashes.len()}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn accept_totp_step(
        &self,
        user: custos_core::UserId,
        step: i64,
    ) -> custos_core::error::StoreResult<bool> {
        let done = Self::query(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 \
             AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user.0)
        .bind(step)
        .execute(self.writer())
        .await
        .map_err(crate::error::map("user"))?;
        Ok(done == 1)
    }

    async fn use_recovery_code(
        &self,
        actor: &custos_core::authz::Actor,
        user: custos_core::UserId,
        code_hash: &str,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<bool> {
        let map = crate::error::map("recovery code");
        let mut tx = self.audited().await?;
        let done = Self::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user.0)
        .bind(code_hash)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        if done != 1 {
            return Ok(false);
        }
        let rec = custos_core::audit::AuditRecord::new(
            "mfa.recovery_code_used",
            "user",
            user,
            serde_json::json!({}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(true)
    }

    async fn remaining_recovery_codes(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<i64> {
        let (n,): (i64,) = Self::query_as(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.0)
        .fetch_one(self)
        .await
        .map_err(crate::error::map("recovery code"))?;
        Ok(n)
    }

    async fn disable_totp(
        &self,
        actor: &custos_core::authz::Actor,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        let lock = format!(
            "SELECT (totp_secret IS NOT NULL) FROM users WHERE id = $1{}",
            Self::FOR_UPDATE
        );
        let (was_on,): (bool,) = Self::query_as(sqlx::AssertSqlSafe(lock))
            .bind(user.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        let done = Self::query(
            "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(user.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("user"));
        }
        Self::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let rec = custos_core::audit::AuditRecord::new(
            "mfa.disable",
            "user",
            user,
            serde_json::json!({"mfa_enabled": {"before": was_on, "after": false}}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        s: custos_core::store::NewSession,
    ) -> custos_core::error::StoreResult<()> {
        Self::query(
            "INSERT INTO sessions (id, token_hash, user_id, stage, csrf_token, user_agent, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(s.id.0)
        .bind(&s.token_hash)
        .bind(s.user_id.0)
        .bind(s.stage.as_str())
        .bind(&s.csrf_token)
        .bind(&s.user_agent)
        .bind(s.now.0)
        .execute(self.writer())
        .await
        .map_err(crate::error::map("session"))?;
        Ok(())
    }

    async fn session_by_hash(
        &self,
        token_hash: &str,
    ) -> custos_core::error::StoreResult<custos_core::store::SessionRecord> {
        let sql = format!(
            "SELECT s.id AS session_id, s.stage, s.csrf_token, s.user_agent, s.created_at AS session_created_at, \
             s.last_seen_at, {}, {} FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN departments d ON d.id = u.department_id WHERE s.token_hash = $1",
            crate::accounts::rows::USER_COLS,
            crate::accounts::rows::PROFILE_COLS
        );
        Self::query_as::<crate::accounts::rows::SessionRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("session"))?
            .try_into()
    }

    async fn touch_session(
        &self,
        id: custos_core::SessionId,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        Self::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(id.0)
            .bind(now.0)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("session"))?;
        Ok(())
    }

    async fn delete_session(
        &self,
        actor: &custos_core::authz::Actor,
        user: custos_core::UserId,
        id: custos_core::SessionId,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("session");
        let mut tx = self.audited().await?;
        let done = Self::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("session"));
        }
        if actor.user_id().is_some() {
            let rec = custos_core::audit::AuditRecord::new(
                "session.end",
                "session",
                id,
                serde_json::json!({"user_id": user.to_string()}),
            );
            tx.record(actor, rec, now);
            tx.commit().await?;
        } else {
            // An expired session cleared by the system is nobody's change.
            tx.commit_unaudited().await?;
        }
        Ok(())
    }

    async fn list_sessions(
        &self,
        user: custos_core::UserId,
    ) -> custos_core::error::StoreResult<Vec<custos_core::store::SessionInfo>> {
        let rows: Vec<(uuid::Uuid, String, String, i64, i64)> = Self::query_as(
            "SELECT id, stage, user_agent, created_at, last_seen_at FROM sessions WHERE user_id = $1 ORDER BY id DESC LIMIT 100",
        )
        .bind(user.0)
        .fetch_all(self)
        .await
        .map_err(crate::error::map("session"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, stage, ua, c, l)| {
                Some(custos_core::store::SessionInfo {
                    id: custos_core::SessionId(id),
                    stage: custos_core::store::SessionStage::parse(&stage)?,
                    user_agent: ua,
                    created_at: custos_core::Timestamp(c),
                    last_seen_at: custos_core::Timestamp(l),
                })
            })
            .collect())
    }

    async fn purge_expired_sessions(
        &self,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<u64> {
        // The longest possible lifetime is 30 days; idle sessions older than that go too.
        let cutoff = now.minus_secs(30 * 24 * 3600).0;
        let done = Self::query("DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $1")
            .bind(cutoff)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("session"))?;
        Self::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now.minus_secs(24 * 3600).0)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("login failure"))?;
        Ok(done)
    }

    async fn create_token(
        &self,
        actor: &custos_core::authz::Actor,
        t: custos_core::store::NewToken,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::store::ApiToken> {
        let token = custos_core::store::ApiToken {
            id: custos_core::TokenId::new(),
            user_id: t.user_id,
            name: t.name,
            created_at: now,
            expires_at: t.expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.id.0)
        .bind(token.user_id.0)
        .bind(&token.name)
        .bind(&t.token_hash)
        .bind(now.0)
        .bind(token.expires_at.map(|e| e.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" => {
                custos_core::StoreError::not_found("user")
            }
            other => other,
        })?;
        let rec = custos_core::audit::AuditRecord::new(
            "token.issue",
            "api_token",
            token.id,
            serde_json::json!({
                "user_id": {"after": token.user_id.to_string()},
                "name": {"after": token.name},
                "expires_at": {"after": token.expires_at.map(|e| e.0)},
            }),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(token)
    }

    async fn token_owner(
        &self,
        token_hash: &str,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<custos_core::store::TokenOwner> {
        let sql = format!(
            "SELECT t.id AS token_id, t.name, t.created_at AS token_created_at, t.expires_at, t.last_used_at, \
             t.revoked_at, {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
             AND NOT u.disabled",
            crate::accounts::rows::USER_COLS
        );
        Self::query_as::<crate::accounts::rows::TokenOwnerRow>(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now.0)
            .fetch_one(self)
            .await
            .map_err(crate::error::map("api token"))?
            .try_into()
    }

    async fn touch_token(
        &self,
        id: custos_core::TokenId,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        Self::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(now.0)
            .execute(self.writer())
            .await
            .map_err(crate::error::map("api token"))?;
        Ok(())
    }

    async fn list_tokens(
        &self,
        user: custos_core::UserId,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::store::ApiToken>>
    {
        let sql = format!(
            "SELECT {} FROM api_tokens t WHERE t.user_id = $1 AND ($2 IS NULL OR t.id > $2) ORDER BY t.id LIMIT $3",
            crate::accounts::rows::TOKEN_COLS
        );
        let rows: Vec<crate::accounts::rows::TokenRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.0)
            .bind(page.after)
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("api token"))?;
        let items = rows.into_iter().map(Into::into).collect();
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |t: &custos_core::store::ApiToken| t.id.0,
        ))
    }

    async fn revoke_token(
        &self,
        actor: &custos_core::authz::Actor,
        owner: custos_core::UserId,
        id: custos_core::TokenId,
        now: custos_core::Timestamp,
    ) -> custos_core::error::StoreResult<()> {
        let map = crate::error::map("api token");
        let mut tx = self.audited().await?;
        let done = Self::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(id.0)
        .bind(owner.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("api token"));
        }
        let rec = custos_core::audit::AuditRecord::new(
            "token.revoke",
            "api_token",
            id,
            serde_json::json!({"revoked_at": {"before": null, "after": now.0}, "user_id": owner.to_string()}),
        );
        tx.record(actor, rec, now);
        tx.commit().await?;
        Ok(())
    }
}
