//! A short-lived, per-instance cache of incident contexts (SLAs in force, calendar and
//! targets, classification, failed controls of a service and CI set), so that a burst of
//! incidents on one service does not repeat the same four queries per request. An entry
//! lives `ttl`; a change to an SLA, a classification or an implementation reaches
//! recognition on this instance within that time (`context_cache_ttl_ms`, 0 = off).

use crate::incidents::Context;
use custos_core::CiId;
use custos_core::time::Date;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Key = (Option<CiId>, Vec<CiId>, Date);

/// At most this many entries; the cache is emptied when it would grow beyond.
const MAX_ENTRIES: usize = 10_000;

pub struct ContextCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Instant, Arc<Context>)>>,
}

impl ContextCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    pub fn get(
        &self,
        service: Option<CiId>,
        cis: &[CiId],
        today: &Date,
        now: Instant,
    ) -> Option<Arc<Context>> {
        let key = (service, cis.to_vec(), today.clone());
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, c)| c.clone())
    }

    pub fn put(
        &self,
        service: Option<CiId>,
        cis: &[CiId],
        today: &Date,
        now: Instant,
        ctx: Arc<Context>,
    ) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert((service, cis.to_vec(), today.clone()), (now, ctx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl_and_keys_are_exact() {
        let c = ContextCache::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let day = Date::of(custos_core::Timestamp(0));
        let svc = Some(CiId(uuid::Uuid::from_u128(1)));
        assert!(c.get(svc, &[], &day, t0).is_none());
        c.put(svc, &[], &day, t0, Arc::new(Context::default()));
        assert!(
            c.get(svc, &[], &day, t0 + Duration::from_millis(50))
                .is_some()
        );
        assert!(
            c.get(svc, &[], &day, t0 + Duration::from_millis(150))
                .is_none()
        );
        assert!(
            c.get(None, &[], &day, t0).is_none(),
            "another service is another key"
        );
        assert!(!ContextCache::new(Duration::ZERO).enabled());
    }
}
