//! User accounts.

impl<B: crate::sql::Backend> crate::sql::SqlStore<B> {
    /// Reads a user; `lock` takes the row for the rest of the transaction (PostgreSQL).
    async fn user_in<'e>(
        ex: impl Into<crate::sql::On<'e, B>>,
        id: custos_core::UserId,
        lock: bool,
    ) -> custos_core::error::StoreResult<custos_core::account::User> {
        let suffix = if lock { Self::FOR_UPDATE } else { "" };
        let sql = format!(
            "SELECT {} FROM users u WHERE u.id = $1{suffix}",
            crate::accounts::rows::USER_COLS
        );
        Self::query_as::<crate::accounts::rows::UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_one(ex)
            .await
            .map_err(crate::error::map("user"))?
            .try_into()
    }

    fn credentials_sql(clause: &str) -> String {
        format!(
            "SELECT {}, {}, u.password_hash, u.totp_secret FROM users u \
             LEFT JOIN departments d ON d.id = u.department_id WHERE {clause}",
            crate::accounts::rows::USER_COLS,
            crate::accounts::rows::PROFILE_COLS
        )
    }
}

#[async_trait::async_trait]
impl<B: crate::sql::Backend> custos_core::store::UserStore for crate::sql::SqlStore<B> {
    async fn create_user(
        &self,
        actor: &custos_core::authz::Actor,
        u: custos_core::account::NewUser,
    ) -> custos_core::error::StoreResult<custos_core::account::User> {
        let now = custos_core::Timestamp::now();
        let user = custos_core::account::User {
            id: custos_core::UserId::new(),
            email: u.email,
            display_name: u.display_name,
            roles: u.roles,
            department_id: u.department_id,
            disabled: false,
            mfa_enabled: false,
            created_at: now,
            updated_at: now,
        };
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        Self::query(
            "INSERT INTO users (id, email, display_name, roles, department_id, disabled, password_hash, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $8)",
        )
        .bind(user.id.0)
        .bind(user.email.as_str())
        .bind(&user.display_name)
        .bind(user.roles.to_list())
        .bind(user.department_id.map(|d| d.0))
        .bind(u.password_hash.as_stored())
        .bind(now.0)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" => {
                custos_core::StoreError::Conflict { constraint: "users_department_id_fkey".into() }
            }
            other => other,
        })?;
        let changes =
            custos_core::audit::diff(None, Some(&crate::accounts::rows::user_view(&user)));
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("user.create", "user", user.id, changes),
            now,
        );
        tx.commit().await?;
        Ok(user)
    }

    async fn update_user(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::UserId,
        p: custos_core::account::UserPatch,
    ) -> custos_core::error::StoreResult<custos_core::account::User> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        let before = Self::user_in(&mut *tx, id, true).await?;
        let after = custos_core::account::User {
            display_name: p
                .display_name
                .unwrap_or_else(|| before.display_name.clone()),
            roles: p.roles.unwrap_or_else(|| before.roles.clone()),
            department_id: p.department_id.unwrap_or(before.department_id),
            disabled: p.disabled.unwrap_or(before.disabled),
            updated_at: now,
            ..before.clone()
        };
        Self::query(
            "UPDATE users SET display_name = $2, roles = $3, department_id = $4, disabled = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(id.0)
        .bind(&after.display_name)
        .bind(after.roles.to_list())
        .bind(after.department_id.map(|d| d.0))
        .bind(after.disabled)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            custos_core::StoreError::Conflict { constraint } if constraint == "foreign_key" => {
                custos_core::StoreError::Conflict {
                    constraint: "users_department_id_fkey".into(),
                }
            }
            other => other,
        })?;
        if after.disabled && !before.disabled {
            // A disabled account keeps no way in.
            Self::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
        }
        let changes = custos_core::audit::diff(
            Some(&crate::accounts::rows::user_view(&before)),
            Some(&crate::accounts::rows::user_view(&after)),
        );
        let action = if before.roles != after.roles {
            "user.roles_change"
        } else {
            "user.update"
        };
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new(action, "user", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(after)
    }

    async fn set_password(
        &self,
        actor: &custos_core::authz::Actor,
        id: custos_core::UserId,
        hash: custos_core::secret::PasswordHash,
    ) -> custos_core::error::StoreResult<()> {
        let now = custos_core::Timestamp::now();
        let map = crate::error::map("user");
        let mut tx = self.audited().await?;
        let done =
            Self::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(id.0)
                .bind(hash.as_stored())
                .bind(now.0)
                .execute(&mut *tx)
                .await
                .map_err(&map)?;
        if done == 0 {
            return Err(custos_core::StoreError::not_found("user"));
        }
        // A new password ends every session: a stolen cookie dies with the old password.
        let ended = Self::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        let changes = serde_json::json!({"password": {"before": "[redacted]", "after": "[changed]"}, "sessions_ended": ended});
        tx.record(
            actor,
            custos_core::audit::AuditRecord::new("user.password_change", "user", id, changes),
            now,
        );
        tx.commit().await?;
        Ok(())
    }

    async fn user(
        &self,
        id: custos_core::UserId,
    ) -> custos_core::error::StoreResult<custos_core::account::User> {
        Self::user_in(self, id, false).await
    }

    async fn list_users(
        &self,
        page: custos_core::page::PageRequest,
    ) -> custos_core::error::StoreResult<custos_core::page::Page<custos_core::account::User>> {
        let sql = format!(
            "SELECT {} FROM users u WHERE ($1 IS NULL OR u.id > $1) ORDER BY u.id LIMIT $2",
            crate::accounts::rows::USER_COLS
        );
        let rows: Vec<crate::accounts::rows::UserRow> = Self::query_as(sqlx::AssertSqlSafe(sql))
            .bind(page.after)
            .bind(page.fetch())
            .fetch_all(self)
            .await
            .map_err(crate::error::map("user"))?;
        let items = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(custos_core::page::Page::from_rows(
            items,
            page,
            |u: &custos_core::account::User| u.id.0,
        ))
    }

    async fn credentials_by_email(
        &self,
        email: &str,
    ) -> custos_core::error::StoreResult<custos_core::account::Credentials> {
        Self::query_as::<crate::accounts::rows::CredentialsRow>(sqlx::AssertSqlSafe(
            Self::credentials_sql("u.email = $1"),
        ))
        .bind(email.trim().to_lowercase())
        .fetch_one(self)
        .await
        .map_err(crate::error::map("user"))?
        .try_into()
    }

    async fn credentials(
        &self,
        id: custos_core::UserId,
    ) -> custos_core::error::StoreResult<custos_core::account::Credentials> {
        Self::query_as::<crate::accounts::rows::CredentialsRow>(sqlx::AssertSqlSafe(
            Self::credentials_sql("u.id = $1"),
        ))
        .bind(id.0)
        .fetch_one(self)
        .await
        .map_err(crate::error::map("user"))?
        .try_into()
    }
}
