//! A short-lived cache of API-token lookups, so the authenticated hot path usually needs no
//! database round trip.
//!
//! Staleness is bounded by the TTL (default 1 s, `auth_cache_ttl_ms`; 0 turns it off): a
//! token revoked or an account disabled or re-roled on another instance stops working, or
//! changes, within that time everywhere. On the instance that made the change the entries
//! are dropped at once.

use custos_core::store::TokenOwner;
use custos_core::{Timestamp, UserId};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

const MAX_ENTRIES: usize = 10_000;

pub struct AuthCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, TokenOwner)>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// A fresh entry for this token hash, if any and not expired (by TTL or by its own
    /// expiry time).
    pub fn get(&self, token_hash: &str, now: Timestamp) -> Option<TokenOwner> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.entries.read().ok()?;
        let (at, owner) = map.get(token_hash)?;
        let live = at.elapsed() < self.ttl && owner.token.expires_at.is_none_or(|e| e > now);
        live.then(|| owner.clone())
    }

    pub fn put(&self, token_hash: String, owner: TokenOwner) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, (at, _)| at.elapsed() < self.ttl);
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(token_hash, (Instant::now(), owner));
        }
    }

    /// Drops every cached token of `user` (after a revocation, role change or disabling).
    pub fn forget_user(&self, user: UserId) {
        if let Ok(mut map) = self.entries.write() {
            map.retain(|_, (_, o)| o.user.id != user);
        }
    }
}
