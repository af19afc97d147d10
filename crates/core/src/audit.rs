//! The tamper-evident audit log.
//!
//! Design: every state change inserts an *unsealed* entry (no sequence number, no hash) in
//! the same transaction as the change, so writers never wait on a shared lock. A sealer
//! (in every server instance, at most one at a time through a row lock on the chain head)
//! takes committed unsealed entries in id order and gives each the next sequence number,
//! the previous entry's hash and its own hash. Sealing runs every few hundred milliseconds,
//! so an entry is chained within a second of its commit. Verification recomputes the chain.

use crate::ids::{AuditId, UserId};
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a use case records about its change. The store adds time, actor and id.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub action: String,
    pub entity_type: &'static str,
    pub entity_id: String,
    /// `{"field": {"before": …, "after": …}}`; see [`diff`].
    pub changes: Value,
}

impl AuditRecord {
    pub fn new(
        action: impl Into<String>,
        entity_type: &'static str,
        entity_id: impl ToString,
        changes: Value,
    ) -> Self {
        Self {
            action: action.into(),
            entity_type,
            entity_id: entity_id.to_string(),
            changes,
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    /// Position in the chain; `None` until sealed.
    pub seq: Option<i64>,
    pub at: Timestamp,
    pub actor: String,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Canonical JSON text of the changes (see [`canonical_json`]).
    pub changes: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// Serialises JSON with object keys sorted and no insignificant whitespace, so the same
/// value always yields the same bytes whatever the map implementation.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&m[k.as_str()], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The SHA-256 (hex) of an entry at position `seq` after `prev_hash`, over a length-prefixed
/// encoding of every field so no two different entries share an encoding.
pub fn entry_hash(e: &AuditEntry, seq: i64, prev_hash: &str) -> String {
    let actor_id = e.actor_id.map(|u| u.to_string()).unwrap_or_default();
    let fields: [&str; 10] = [
        &seq.to_string(),
        &e.id.to_string(),
        &e.at.0.to_string(),
        &e.actor,
        &actor_id,
        &e.action,
        &e.entity_type,
        &e.entity_id,
        &e.changes,
        prev_hash,
    ];
    let mut h = Sha256::new();
    h.update(b"custos-audit-v1\n");
    for f in fields {
        h.update(f.len().to_string().as_bytes());
        h.update(b":");
        h.update(f.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The field-level difference between two JSON objects (`None` = the record did not exist).
/// Unchanged fields are left out.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Map::new();
    for k in keys {
        let (bv, av) = (b.get(k), a.get(k));
        if bv != av {
            let mut change = Map::new();
            if before.is_some() {
                change.insert("before".into(), bv.cloned().unwrap_or(Value::Null));
            }
            if after.is_some() {
                change.insert("after".into(), av.cloned().unwrap_or(Value::Null));
            }
            out.insert(k.clone(), Value::Object(change));
        }
    }
    Value::Object(out)
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub id: Option<AuditId>,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "entry seq {} (id {}): {}", self.seq, id, self.reason),
            None => write!(f, "entry seq {}: {}", self.seq, self.reason),
        }
    }
}

/// Checks sealed entries fed in sequence order. Keeps only the last hash, so it verifies
/// any length of chain in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let brk = |seq: i64, reason: String| ChainBreak {
            seq,
            id: Some(e.id),
            reason,
        };
        let (Some(seq), Some(prev), Some(hash)) =
            (e.seq, e.prev_hash.as_deref(), e.hash.as_deref())
        else {
            return Err(brk(
                self.expected_seq,
                "entry in the sealed chain lacks its seal".into(),
            ));
        };
        if seq != self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq,
                id: None,
                reason: format!(
                    "missing: the chain jumps from seq {} to seq {seq} (id {})",
                    self.expected_seq - 1,
                    e.id
                ),
            });
        }
        if prev != self.prev_hash {
            return Err(brk(
                seq,
                "prev_hash does not match the hash of the entry before it".into(),
            ));
        }
        if entry_hash(e, seq, prev) != hash {
            return Err(brk(seq, "content does not match its hash (edited)".into()));
        }
        self.expected_seq += 1;
        self.prev_hash = hash.to_string();
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the chain with the separately kept head (last seq and hash), which
    /// catches entries deleted from the end.
    pub fn finish(&self, head: Option<(i64, String)>) -> Result<(), ChainBreak> {
        let last = self.expected_seq - 1;
        match head {
            None if last == 0 => Ok(()),
            None => Err(ChainBreak {
                seq: last,
                id: None,
                reason: "chain head record is missing".into(),
            }),
            Some((hseq, hhash)) if hseq == last && hhash == self.prev_hash => Ok(()),
            Some((hseq, _)) if hseq > last => Err(ChainBreak {
                seq: last + 1,
                id: None,
                reason: format!(
                    "missing: the head records {hseq} entries but the chain ends at {last}"
                ),
            }),
            Some((hseq, _)) => Err(ChainBreak {
                seq: hseq,
                id: None,
                reason: "the chain head's hash does not match the last entry".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(i: i64) -> AuditEntry {
        AuditEntry {
            id: AuditId::new(),
            seq: None,
            at: Timestamp(1_700_000_000_000 + i),
            actor: "admin@example.org".into(),
            actor_id: None,
            action: "user.create".into(),
            entity_type: "user".into(),
            entity_id: format!("u{i}"),
            changes: canonical_json(&json!({"email": {"after": format!("u{i}@example.org")}})),
            prev_hash: None,
            hash: None,
        }
    }

    fn sealed(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|i| {
                let mut e = entry(i);
                let h = entry_hash(&e, i, &prev);
                e.seq = Some(i);
                e.prev_hash = Some(prev.clone());
                e.hash = Some(h.clone());
                prev = h;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, String)>) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head)?;
        Ok(v.checked())
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, String)> {
        entries
            .last()
            .map(|e| (e.seq.unwrap(), e.hash.clone().unwrap()))
    }

    #[test]
    fn intact_chain_verifies() {
        let c = sealed(5);
        assert_eq!(verify(&c, head(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edited_entry_is_named() {
        let mut c = sealed(5);
        let h = head(&c);
        c[2].actor = "mallory@example.org".into();
        let b = verify(&c, h).unwrap_err();
        assert_eq!(b.seq, 3);
        assert_eq!(b.id, Some(c[2].id));
    }

    #[test]
    fn deleted_entries_are_found_in_the_middle_and_at_the_end() {
        let mut c = sealed(5);
        let h = head(&c);
        c.remove(1);
        assert_eq!(verify(&c, h.clone()).unwrap_err().seq, 2);
        let mut c = sealed(5);
        c.pop();
        assert_eq!(verify(&c, h).unwrap_err().seq, 5);
    }

    #[test]
    fn rehashing_one_entry_breaks_the_next_link() {
        let mut c = sealed(4);
        let h = head(&c);
        c[1].action = "user.delete".into();
        c[1].hash = Some(entry_hash(&c[1], 2, c[1].prev_hash.as_deref().unwrap()));
        assert_eq!(verify(&c, h).unwrap_err().seq, 3);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": null}], "c": "x"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}"#
        );
    }

    #[test]
    fn diff_keeps_changed_fields_only() {
        let b = json!({"name": "IT", "mfa": false, "same": 1});
        let a = json!({"name": "IT Ops", "mfa": false, "same": 1});
        assert_eq!(
            diff(Some(&b), Some(&a)),
            json!({"name": {"before": "IT", "after": "IT Ops"}})
        );
        assert_eq!(
            diff(None, Some(&json!({"x": 1}))),
            json!({"x": {"after": 1}})
        );
        assert_eq!(
            diff(Some(&json!({"x": 1})), None),
            json!({"x": {"before": 1}})
        );
    }
}
