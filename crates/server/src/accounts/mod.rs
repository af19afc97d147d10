//! Accounts: people, their departments, sign-in, sessions and API tokens.

pub mod api;
pub mod pages;

use custos_core::account::check_name;
use custos_core::authz::Actor;
use custos_core::secret::{Secret, new_api_token, token_hash};
use custos_core::store::{ApiToken, NewToken, Store};
use custos_core::{Error, Outcome, Timestamp, UserId};

/// Issues a token for `user` (shared by the API, the account page and the CLI).
pub async fn issue(
    store: &dyn Store,
    actor: &Actor,
    user: UserId,
    name: &str,
    expires_in_days: Option<u32>,
) -> Outcome<(Secret, ApiToken)> {
    issue_until(store, actor, user, name, expires_in_days, None).await
}

/// Like [`issue`], but the new token expires no later than `not_after` (a token minted with
/// another token cannot outlive it; without a requested expiry it inherits the limit).
pub async fn issue_until(
    store: &dyn Store,
    actor: &Actor,
    user: UserId,
    name: &str,
    expires_in_days: Option<u32>,
    not_after: Option<Timestamp>,
) -> Outcome<(Secret, ApiToken)> {
    let name = check_name("name", name, 100)?;
    if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Error::validation(
            "expires_in_days",
            "must be between 1 and 3650",
        ));
    }
    let now = Timestamp::now();
    let requested = expires_in_days.map(|d| now.plus_secs(i64::from(d) * 86_400));
    let expires_at = match (requested, not_after) {
        (Some(r), Some(limit)) if r > limit => {
            return Err(Error::validation(
                "expires_in_days",
                "a token created with an API token cannot outlive that token",
            ));
        }
        (Some(r), _) => Some(r),
        (None, limit) => limit,
    };
    let secret = new_api_token();
    let t = NewToken {
        user_id: user,
        name,
        token_hash: token_hash(secret.expose()),
        expires_at,
    };
    let token = store.create_token(actor, t, now).await?;
    Ok((secret, token))
}
