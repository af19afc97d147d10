//! The one place where driver errors become [`StoreError`].

use custos_core::StoreError;

/// Maps a driver error: no row → `NotFound(entity)`, a unique or foreign-key violation →
/// `Conflict` naming the constraint, anything else → `Internal` (logged with its cause).
pub(crate) fn map(entity: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::RowNotFound => StoreError::NotFound { entity },
        sqlx::Error::Database(db) => {
            use sqlx::error::ErrorKind::*;
            match db.kind() {
                UniqueViolation | ForeignKeyViolation => StoreError::Conflict {
                    constraint: constraint_name(db.constraint(), db.message()),
                },
                // SQLite reports an `ON DELETE RESTRICT` refusal as a trigger constraint
                // (extended code 1811) that sqlx does not classify.
                _ if db.message().contains("FOREIGN KEY constraint failed") => {
                    StoreError::Conflict {
                        constraint: "foreign_key".into(),
                    }
                }
                _ => internal(db.to_string()),
            }
        }
        other => internal(other.to_string()),
    }
}

fn internal(msg: String) -> StoreError {
    tracing::error!(error = %msg, "database error");
    StoreError::Internal(msg)
}

/// PostgreSQL names the constraint. SQLite only says `UNIQUE constraint failed: users.email`
/// or `FOREIGN KEY constraint failed`; the unique case is turned into PostgreSQL's default
/// name (`users_email_key`) so both backends report the same.
fn constraint_name(named: Option<&str>, message: &str) -> String {
    if let Some(n) = named {
        return n.to_string();
    }
    if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
        let first = cols.split(',').next().unwrap_or(cols).trim();
        if let Some((table, col)) = first.split_once('.') {
            return format!("{table}_{col}_key");
        }
    }
    if message.contains("FOREIGN KEY") {
        return "foreign_key".into();
    }
    "unknown".into()
}

#[cfg(test)]
mod tests {
    use super::constraint_name;

    #[test]
    fn sqlite_messages_get_postgres_names() {
        assert_eq!(
            constraint_name(None, "UNIQUE constraint failed: users.email"),
            "users_email_key"
        );
        assert_eq!(
            constraint_name(Some("departments_name_key"), "x"),
            "departments_name_key"
        );
        assert_eq!(
            constraint_name(None, "FOREIGN KEY constraint failed"),
            "foreign_key"
        );
    }
}
