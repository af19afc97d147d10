//! Configuration items, their types and lifecycle, and typed relationships. What a
//! relationship means for impact and for classification is decided here, once.

use crate::classification::Classification;
use crate::error::DomainError;
use crate::ids::{CiId, DepartmentId, RelationshipId, UserId};
use crate::time::Timestamp;
use serde::Serialize;

/// The built-in CI types; administrators may add more.
pub const BUILTIN_TYPES: [(&str, &str); 10] = [
    ("business_service", "Business service"),
    ("application", "Application"),
    ("server", "Server"),
    ("virtual_machine", "Virtual machine"),
    ("database", "Database"),
    ("network_device", "Network device"),
    ("cloud_service", "Cloud service"),
    ("storage_media", "Storage media"),
    ("dataset", "Dataset"),
    ("endpoint", "Endpoint"),
];

/// A CI type name: lower-case letters, digits and underscores, 2–50 characters.
pub fn check_type_name(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    let ok = (2..=50).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(DomainError::new(
            "name",
            "must be 2–50 lower-case letters, digits or underscores, starting with a letter",
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Planned,
    Active,
    Retired,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Planned => "planned",
            Lifecycle::Active => "active",
            Lifecycle::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "planned" => Ok(Self::Planned),
            "active" => Ok(Self::Active),
            "retired" => Ok(Self::Retired),
            _ => Err(DomainError::new(
                "status",
                "must be planned, active or retired",
            )),
        }
    }
}

/// The relationship types. Read `X <type> Y` with X the source and Y the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelType {
    /// X needs Y to work.
    DependsOn,
    /// X (software) runs on Y (a machine).
    RunsOn,
    /// X is hosted by Y (a provider, a hypervisor, a data centre).
    HostedBy,
    /// X and Y are linked on the network; carries no classification.
    ConnectsTo,
    /// X holds Y's data (a database or medium holding a dataset or service's data).
    StoresDataOf,
}

impl RelType {
    pub const ALL: [RelType; 5] = [
        RelType::DependsOn,
        RelType::RunsOn,
        RelType::HostedBy,
        RelType::ConnectsTo,
        RelType::StoresDataOf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelType::DependsOn => "depends_on",
            RelType::RunsOn => "runs_on",
            RelType::HostedBy => "hosted_by",
            RelType::ConnectsTo => "connects_to",
            RelType::StoresDataOf => "stores_data_of",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RelType::DependsOn => "depends on",
            RelType::RunsOn => "runs on",
            RelType::HostedBy => "is hosted by",
            RelType::ConnectsTo => "connects to",
            RelType::StoresDataOf => "stores data of",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        RelType::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "rel_type",
                    "must be depends_on, runs_on, hosted_by, connects_to or stores_data_of",
                )
            })
    }

    /// For an edge `source → target`, the pair (dependent, dependency) — who breaks when
    /// whom fails. `connects_to` has no direction: `None`, and impact treats it both ways.
    pub fn dependency(self, source: CiId, target: CiId) -> Option<(CiId, CiId)> {
        match self {
            RelType::DependsOn | RelType::RunsOn | RelType::HostedBy => Some((source, target)),
            RelType::StoresDataOf => Some((target, source)),
            RelType::ConnectsTo => None,
        }
    }

    /// For an edge `source → target`, the pair (from, to) along which classification flows:
    /// the dependency inherits the dependent's levels (a server carries what runs on it; a
    /// database carries the data it stores). `connects_to` carries none.
    pub fn classification_flow(self, source: CiId, target: CiId) -> Option<(CiId, CiId)> {
        self.dependency(source, target)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ci {
    pub id: CiId,
    pub ci_type: String,
    pub name: String,
    pub external_key: Option<String>,
    pub owner_id: Option<UserId>,
    pub department_id: Option<DepartmentId>,
    pub status: Lifecycle,
    pub attributes: serde_json::Value,
    pub explicit: Classification,
    pub justification: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields of a CI a caller sets (create and full update).
#[derive(Debug, Clone, PartialEq)]
pub struct CiInput {
    pub ci_type: String,
    pub name: String,
    pub external_key: Option<String>,
    pub owner_id: Option<UserId>,
    pub department_id: Option<DepartmentId>,
    pub status: Lifecycle,
    pub attributes: serde_json::Value,
}

impl CiInput {
    pub fn new(
        ci_type: &str,
        name: &str,
        external_key: Option<&str>,
        status: Lifecycle,
        attributes: serde_json::Value,
    ) -> Result<Self, DomainError> {
        if !attributes.is_object() {
            return Err(DomainError::new("attributes", "must be a JSON object"));
        }
        if crate::audit::canonical_json(&attributes).len() > 16 * 1024 {
            return Err(DomainError::new("attributes", "must be at most 16 KiB"));
        }
        if contains_nul(&attributes) {
            return Err(DomainError::new(
                "attributes",
                "must not contain NUL characters",
            ));
        }
        let external_key = match external_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => Some(crate::account::check_name("external_key", k, 200)?),
            None => None,
        };
        Ok(Self {
            ci_type: check_type_name(ci_type)
                .map_err(|e| DomainError::new("ci_type", e.message))?,
            name: crate::account::check_name("name", name, 200)?,
            external_key,
            owner_id: None,
            department_id: None,
            status,
            attributes,
        })
    }
}

fn contains_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(contains_nul),
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relationship {
    pub id: RelationshipId,
    pub source_id: CiId,
    pub target_id: CiId,
    pub rel_type: RelType,
    pub created_at: Timestamp,
}

/// Turns free text into search terms: alphanumeric words, lower-cased, at most 8.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(8)
        .collect()
}

/// Which way impact analysis walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// What breaks if this CI fails: its dependents, their dependents, …
    Upstream,
    /// What this CI relies on: its dependencies, theirs, …
    Downstream,
}

impl Direction {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "upstream" => Ok(Self::Upstream),
            "downstream" => Ok(Self::Downstream),
            _ => Err(DomainError::new(
                "direction",
                "must be upstream or downstream",
            )),
        }
    }
}

/// One CI reached by impact analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impacted {
    pub ci: CiId,
    pub distance: u32,
    /// A shortest path from the origin to this CI, both included.
    pub path: Vec<CiId>,
}

/// The CIs one step from `n` in `dir` across `rel` (empty if `rel` does not touch `n`).
pub fn step(rel: &Relationship, n: CiId, dir: Direction) -> Option<CiId> {
    let other = if rel.source_id == n {
        rel.target_id
    } else if rel.target_id == n {
        rel.source_id
    } else {
        return None;
    };
    match rel.rel_type.dependency(rel.source_id, rel.target_id) {
        // connects_to: a failing link breaks both ends, whichever way we look.
        None => Some(other),
        Some((dependent, dependency)) => match dir {
            Direction::Downstream if dependent == n => Some(dependency),
            Direction::Upstream if dependency == n => Some(dependent),
            _ => None,
        },
    }
}

/// Breadth-first impact analysis up to `max_depth` steps, at most `limit` results. `edges`
/// returns every relationship touching any of the given CIs (one call per level).
pub async fn impact<F, Fut, E>(
    origin: CiId,
    dir: Direction,
    max_depth: u32,
    limit: usize,
    edges: F,
) -> Result<Vec<Impacted>, E>
where
    F: Fn(Vec<CiId>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Relationship>, E>>,
{
    use std::collections::HashMap;
    let mut parent: HashMap<CiId, CiId> = HashMap::new();
    let mut order: Vec<(CiId, u32)> = vec![];
    let mut frontier = vec![origin];
    let mut depth = 0;
    while !frontier.is_empty() && depth < max_depth && order.len() < limit {
        depth += 1;
        let rels = edges(frontier.clone()).await?;
        let mut next = vec![];
        for &n in &frontier {
            for r in &rels {
                if let Some(m) = step(r, n, dir)
                    && m != origin
                    && !parent.contains_key(&m)
                    && order.len() < limit
                {
                    parent.insert(m, n);
                    order.push((m, depth));
                    next.push(m);
                }
            }
        }
        frontier = next;
    }
    Ok(order
        .into_iter()
        .map(|(ci, distance)| {
            let mut path = vec![ci];
            let mut cur = ci;
            while let Some(p) = parent.get(&cur) {
                path.push(*p);
                cur = *p;
            }
            path.reverse();
            Impacted { ci, distance, path }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions() {
        let (x, y) = (CiId::new(), CiId::new());
        assert_eq!(RelType::RunsOn.dependency(x, y), Some((x, y)));
        assert_eq!(
            RelType::StoresDataOf.dependency(x, y),
            Some((y, x)),
            "the data's owner relies on its store"
        );
        assert_eq!(RelType::ConnectsTo.classification_flow(x, y), None);
        assert_eq!(
            RelType::HostedBy.classification_flow(x, y),
            Some((x, y)),
            "the host inherits"
        );
    }

    fn rel(s: CiId, t: CiId, rel_type: RelType) -> Relationship {
        Relationship {
            id: RelationshipId::new(),
            source_id: s,
            target_id: t,
            rel_type,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn impact_walks_dependencies_both_ways() {
        let [svc, app, vm, srv, sw, db] = [0; 6].map(|_| CiId::new());
        let rels = [
            rel(svc, app, RelType::DependsOn),
            rel(app, vm, RelType::RunsOn),
            rel(vm, srv, RelType::HostedBy),
            rel(srv, sw, RelType::ConnectsTo),
            rel(db, svc, RelType::StoresDataOf),
        ];
        let fetch = |ids: Vec<CiId>| {
            let out: Vec<Relationship> = rels
                .iter()
                .filter(|r| ids.contains(&r.source_id) || ids.contains(&r.target_id))
                .cloned()
                .collect();
            async move { Ok::<_, ()>(out) }
        };
        let run = |origin, dir, depth| futures_lite(impact(origin, dir, depth, 1000, fetch));
        // Which services break if the switch fails?
        let up = run(sw, Direction::Upstream, 10);
        let names: Vec<CiId> = up.iter().map(|i| i.ci).collect();
        assert_eq!(names, vec![srv, vm, app, svc]);
        assert_eq!(up[3].path, vec![sw, srv, vm, app, svc]);
        assert_eq!(up[3].distance, 4);
        // What does the service rely on? Its app, the VM, the server, the switch, and the
        // database holding its data.
        let down: Vec<CiId> = run(svc, Direction::Downstream, 10)
            .iter()
            .map(|i| i.ci)
            .collect();
        assert_eq!(down.len(), 5);
        assert!(down.contains(&db) && down.contains(&sw));
        assert_eq!(
            run(svc, Direction::Downstream, 1).len(),
            2,
            "depth limits the walk"
        );
        assert!(
            run(svc, Direction::Upstream, 10).is_empty(),
            "nothing depends on the service"
        );
    }

    /// Runs a future that never waits (the test's fetch is immediate).
    fn futures_lite<T>(f: impl std::future::Future<Output = Result<T, ()>>) -> T {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r.unwrap(),
            std::task::Poll::Pending => panic!("test future pending"),
        }
    }

    #[test]
    fn input_checks() {
        assert!(
            CiInput::new(
                "server",
                "web-01",
                None,
                Lifecycle::Active,
                serde_json::json!({})
            )
            .is_ok()
        );
        assert_eq!(
            CiInput::new(
                "Server!",
                "x",
                None,
                Lifecycle::Active,
                serde_json::json!({})
            )
            .unwrap_err()
            .field,
            "ci_type"
        );
        assert_eq!(
            CiInput::new(
                "server",
                "x",
                None,
                Lifecycle::Active,
                serde_json::json!([])
            )
            .unwrap_err()
            .field,
            "attributes"
        );
        assert_eq!(
            CiInput::new(
                "server",
                "x",
                None,
                Lifecycle::Active,
                serde_json::json!({"a": "\0"})
            )
            .unwrap_err()
            .field,
            "attributes"
        );
        assert_eq!(
            search_terms("Web-01 \"prod\"; DROP"),
            ["web", "01", "prod", "drop"]
        );
    }
}
