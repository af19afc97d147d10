//! The unified C/I/A scale and how classification spreads along dependencies.
//!
//! Effective level of a CI, per dimension = the maximum of its own explicit level and the
//! effective levels of everything it inherits from (see `RelType::classification_flow`).
//! [`propagate`] computes it for a region of the graph — all of it, or just the part
//! downstream of a change — by a breadth-first search per level from the highest down, so
//! cycles are harmless, removals lower levels correctly, and each result names its source
//! CI and the neighbour it came through (following those gives a shortest path).

use crate::error::DomainError;
use crate::ids::CiId;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Level {
    Low = 1,
    Moderate = 2,
    High = 3,
}

impl Level {
    pub const DESCENDING: [Level; 3] = [Level::High, Level::Moderate, Level::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Moderate => "moderate",
            Level::High => "high",
        }
    }

    pub fn as_i16(self) -> i16 {
        self as i16
    }

    pub fn from_i16(v: i16) -> Option<Self> {
        match v {
            1 => Some(Level::Low),
            2 => Some(Level::Moderate),
            3 => Some(Level::High),
            _ => None,
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "low" => Ok(Level::Low),
            "moderate" => Ok(Level::Moderate),
            "high" => Ok(Level::High),
            _ => Err(DomainError::new(field, "must be low, moderate or high")),
        }
    }
}

/// Confidentiality, integrity, availability — in that order everywhere.
pub const DIMENSIONS: [&str; 3] = ["confidentiality", "integrity", "availability"];

/// Explicitly set levels; `None` = not set on this CI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Classification {
    pub confidentiality: Option<Level>,
    pub integrity: Option<Level>,
    pub availability: Option<Level>,
}

impl Classification {
    pub fn get(&self, dim: usize) -> Option<Level> {
        [self.confidentiality, self.integrity, self.availability][dim]
    }

    pub fn is_empty(&self) -> bool {
        (0..3).all(|d| self.get(d).is_none())
    }
}

/// One dimension's effective level and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Derived {
    pub level: Level,
    /// The CI whose explicit level this is (itself when set on it); `None` for the default.
    pub source: Option<CiId>,
    /// The neighbour it was inherited through; `None` when set on the CI itself or default.
    pub via: Option<CiId>,
}

impl Derived {
    pub const DEFAULT: Derived = Derived {
        level: Level::Low,
        source: None,
        via: None,
    };
}

pub type Effective = [Derived; 3];

/// The highest of the three effective levels (FIPS 199 high-water mark).
pub fn high_water_mark(e: &Effective) -> Level {
    e.iter().map(|d| d.level).max().unwrap_or(Level::Low)
}

/// A part of the graph to (re)compute.
pub struct Region<'a> {
    /// The CIs to compute, in a stable order.
    pub nodes: &'a [CiId],
    pub explicit: &'a HashMap<CiId, Classification>,
    /// For each node: the CIs it inherits from (inside the region or not).
    pub parents: &'a HashMap<CiId, Vec<CiId>>,
    /// Effective values of parents outside the region (unchanged by construction).
    pub outside: &'a HashMap<CiId, Effective>,
}

/// The inheritance graph in dense indices: the nodes that inherit from node `i` are
/// `to[start[i]..start[i + 1]]` (compressed rows; no allocation per node, so a graph of
/// millions of CIs costs a few bytes per edge).
pub struct Children {
    start: Vec<u32>,
    to: Vec<u32>,
}

impl Children {
    /// Builds the graph over nodes `0..n` from `(parent, child)` pairs (a counting sort).
    pub fn from_pairs(n: usize, pairs: &[(u32, u32)]) -> Self {
        let mut start = vec![0u32; n + 1];
        for &(p, _) in pairs {
            start[p as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut to = vec![0u32; pairs.len()];
        for &(p, c) in pairs {
            to[next[p as usize] as usize] = c;
            next[p as usize] += 1;
        }
        Self { start, to }
    }

    fn of(&self, i: u32) -> &[u32] {
        &self.to[self.start[i as usize] as usize..self.start[i as usize + 1] as usize]
    }
}

/// "No node" in [`DenseDerived`] (where [`Derived`] has `None`).
pub const NO_NODE: u32 = u32::MAX;

/// One dimension's effective level in dense indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseDerived {
    pub level: Level,
    pub source: u32,
    pub via: u32,
}

impl DenseDerived {
    pub const DEFAULT: DenseDerived = DenseDerived {
        level: Level::Low,
        source: NO_NODE,
        via: NO_NODE,
    };
}

/// Computes the effective classification of nodes `0..explicit.len()`: per dimension, a
/// breadth-first search from the highest level down, seeded by the nodes set to that level
/// (in index order). A node takes the first level that reaches it, so cycles cannot sustain
/// a level and every `via` chain is a shortest path to its source.
pub fn propagate_dense(explicit: &[Classification], children: &Children) -> Vec<[DenseDerived; 3]> {
    let n = explicit.len();
    let mut out = vec![[DenseDerived::DEFAULT; 3]; n];
    let mut assigned = vec![false; n];
    let mut queue: VecDeque<u32> = VecDeque::new();
    for dim in [0, 1, 2] {
        assigned.fill(false);
        for level in Level::DESCENDING {
            for (i, (e, done)) in explicit.iter().zip(assigned.iter_mut()).enumerate() {
                if !*done && e.get(dim) == Some(level) {
                    *done = true;
                    out[i][dim] = DenseDerived {
                        level,
                        source: i as u32,
                        via: NO_NODE,
                    };
                    queue.push_back(i as u32);
                }
            }
            while let Some(i) = queue.pop_front() {
                let source = out[i as usize][dim].source;
                for &c in children.of(i) {
                    if !assigned[c as usize] {
                        assigned[c as usize] = true;
                        out[c as usize][dim] = DenseDerived {
                            level,
                            source,
                            via: i,
                        };
                        queue.push_back(c);
                    }
                }
            }
        }
    }
    out
}

/// Computes the effective classification of every node in the region.
///
/// Parents outside the region join the dense graph as extra nodes seeded with their
/// (unchanged) effective levels, so one search serves both a region and a whole CMDB.
pub fn propagate(r: &Region<'_>) -> HashMap<CiId, Effective> {
    let n = r.nodes.len();
    let mut index: HashMap<CiId, u32> = r
        .nodes
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u32))
        .collect();
    let mut explicit: Vec<Classification> = r
        .nodes
        .iter()
        .map(|c| r.explicit.get(c).copied().unwrap_or_default())
        .collect();
    // The outside parents, as (id, its effective value), indexed from `n`.
    let mut outside: Vec<(CiId, &Effective)> = vec![];
    let mut pairs: Vec<(u32, u32)> = vec![];
    for (i, node) in r.nodes.iter().enumerate() {
        for p in r.parents.get(node).into_iter().flatten() {
            let pi = match index.get(p) {
                Some(&pi) => pi,
                None => {
                    let Some(e) = r.outside.get(p) else { continue };
                    let pi = (n + outside.len()) as u32;
                    index.insert(*p, pi);
                    outside.push((*p, e));
                    let seed = |d: usize| e[d].source.map(|_| e[d].level);
                    explicit.push(Classification {
                        confidentiality: seed(0),
                        integrity: seed(1),
                        availability: seed(2),
                    });
                    pi
                }
            };
            pairs.push((pi, i as u32));
        }
    }
    let out = propagate_dense(&explicit, &Children::from_pairs(explicit.len(), &pairs));
    let id = |x: u32| match x {
        NO_NODE => None,
        x if (x as usize) < n => Some(r.nodes[x as usize]),
        x => Some(outside[x as usize - n].0),
    };
    r.nodes
        .iter()
        .zip(out)
        .map(|(node, d)| {
            let e: Effective = std::array::from_fn(|dim| {
                let d = d[dim];
                Derived {
                    level: d.level,
                    // An outside parent's own entry names itself as source; the real
                    // source is the one it inherited from.
                    source: match d.source {
                        s if s != NO_NODE && s as usize >= n => {
                            outside[s as usize - n].1[dim].source
                        }
                        s => id(s),
                    },
                    via: id(d.via),
                }
            });
            (*node, e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Graph {
        nodes: Vec<CiId>,
        explicit: HashMap<CiId, Classification>,
        edges: Vec<(CiId, CiId)>, // (from, to): `to` inherits from `from`
    }

    impl Graph {
        fn new(n: usize) -> Self {
            let mut nodes: Vec<CiId> = (0..n).map(|_| CiId::new()).collect();
            nodes.sort();
            Self {
                nodes,
                explicit: HashMap::new(),
                edges: vec![],
            }
        }
        fn parents(&self) -> HashMap<CiId, Vec<CiId>> {
            let mut p: HashMap<CiId, Vec<CiId>> = HashMap::new();
            for (f, t) in &self.edges {
                p.entry(*t).or_default().push(*f);
            }
            p
        }
        fn full(&self) -> HashMap<CiId, Effective> {
            let parents = self.parents();
            propagate(&Region {
                nodes: &self.nodes,
                explicit: &self.explicit,
                parents: &parents,
                outside: &HashMap::new(),
            })
        }
        /// Recomputes only what is downstream of `seeds`, reusing `before` for the rest.
        fn incremental(
            &self,
            before: &HashMap<CiId, Effective>,
            seeds: &[CiId],
        ) -> HashMap<CiId, Effective> {
            let mut region: Vec<CiId> = vec![];
            let mut seen: std::collections::HashSet<CiId> = std::collections::HashSet::new();
            let mut q: VecDeque<CiId> = seeds.iter().copied().collect();
            while let Some(n) = q.pop_front() {
                if seen.insert(n) {
                    region.push(n);
                    q.extend(self.edges.iter().filter(|(f, _)| *f == n).map(|(_, t)| *t));
                }
            }
            let parents = self.parents();
            let outside: HashMap<CiId, Effective> = before
                .iter()
                .filter(|(k, _)| !seen.contains(k))
                .map(|(k, v)| (*k, *v))
                .collect();
            let mut after = before.clone();
            after.extend(propagate(&Region {
                nodes: &region,
                explicit: &self.explicit,
                parents: &parents,
                outside: &outside,
            }));
            after
        }
        fn path(&self, eff: &HashMap<CiId, Effective>, mut n: CiId, dim: usize) -> Vec<CiId> {
            let mut p = vec![n];
            while let Some(v) = eff[&n][dim].via {
                p.push(v);
                n = v;
                assert!(p.len() <= self.nodes.len(), "via pointers loop");
            }
            p
        }
    }

    fn c_high() -> Classification {
        Classification {
            confidentiality: Some(Level::High),
            ..Default::default()
        }
    }

    #[test]
    fn chain_inherits_and_removal_lowers() {
        // service → application → VM → server (each depends on / runs on / is hosted by the next).
        let mut g = Graph::new(4);
        let [svc, app, vm, srv] = [g.nodes[0], g.nodes[1], g.nodes[2], g.nodes[3]];
        g.edges = vec![(svc, app), (app, vm), (vm, srv)];
        g.explicit.insert(svc, c_high());
        g.explicit.insert(
            srv,
            Classification {
                confidentiality: Some(Level::Moderate),
                ..Default::default()
            },
        );
        let eff = g.full();
        for n in [svc, app, vm, srv] {
            assert_eq!(eff[&n][0].level, Level::High);
            assert_eq!(eff[&n][0].source, Some(svc));
        }
        assert_eq!(g.path(&eff, srv, 0), vec![srv, vm, app, svc]);
        assert_eq!(eff[&app][1], Derived::DEFAULT, "integrity untouched");

        g.edges.retain(|e| *e != (app, vm));
        let after = g.incremental(&eff, &[vm]);
        assert_eq!(after, g.full());
        assert_eq!(after[&vm][0].level, Level::Low);
        assert_eq!(
            after[&srv][0],
            Derived {
                level: Level::Moderate,
                source: Some(srv),
                via: None
            },
            "back to its own level"
        );
        assert_eq!(after[&app][0].level, Level::High);
    }

    #[test]
    fn cycles_do_not_sustain_a_level() {
        let mut g = Graph::new(3);
        let [a, b, c] = [g.nodes[0], g.nodes[1], g.nodes[2]];
        g.edges = vec![(a, b), (b, c), (c, a)];
        g.explicit.insert(a, c_high());
        let eff = g.full();
        assert!(eff.values().all(|e| e[0].level == Level::High));
        g.explicit.remove(&a);
        let after = g.incremental(&eff, &[a]);
        assert!(
            after.values().all(|e| e[0] == Derived::DEFAULT),
            "{after:?}"
        );
    }

    #[test]
    fn maximum_wins_per_dimension_and_paths_are_shortest() {
        let mut g = Graph::new(4);
        let [hi, mid, x, y] = [g.nodes[0], g.nodes[1], g.nodes[2], g.nodes[3]];
        // hi → x → y, mid → y
        g.edges = vec![(hi, x), (x, y), (mid, y)];
        g.explicit.insert(
            hi,
            Classification {
                availability: Some(Level::Moderate),
                ..Default::default()
            },
        );
        g.explicit.insert(
            mid,
            Classification {
                availability: Some(Level::High),
                integrity: Some(Level::Moderate),
                ..Default::default()
            },
        );
        let eff = g.full();
        assert_eq!(
            eff[&y][2],
            Derived {
                level: Level::High,
                source: Some(mid),
                via: Some(mid)
            }
        );
        assert_eq!(eff[&y][1].level, Level::Moderate);
        assert_eq!(eff[&x][2].source, Some(hi));
        assert_eq!(high_water_mark(&eff[&y]), Level::High);
    }

    /// Property: on random graphs, after random changes, recomputing only the region
    /// downstream of the change equals recomputing everything.
    #[test]
    fn incremental_equals_full_on_random_graphs() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _case in 0..300 {
            let n = 2 + rnd(12) as usize;
            let mut g = Graph::new(n);
            for _ in 0..rnd(3 * n as u64) {
                let (f, t) = (
                    g.nodes[rnd(n as u64) as usize],
                    g.nodes[rnd(n as u64) as usize],
                );
                if f != t && !g.edges.contains(&(f, t)) {
                    g.edges.push((f, t));
                }
            }
            let level = |r: u64| {
                [
                    None,
                    Some(Level::Low),
                    Some(Level::Moderate),
                    Some(Level::High),
                ][r as usize]
            };
            for &node in &g.nodes {
                if rnd(3) == 0 {
                    g.explicit.insert(
                        node,
                        Classification {
                            confidentiality: level(rnd(4)),
                            integrity: level(rnd(4)),
                            availability: level(rnd(4)),
                        },
                    );
                }
            }
            let before = g.full();
            // One random change: drop an edge, add an edge, or change an explicit value.
            let seeds = match rnd(3) {
                0 if !g.edges.is_empty() => {
                    let e = g.edges.remove(rnd(g.edges.len() as u64) as usize);
                    vec![e.1]
                }
                1 => {
                    let (f, t) = (
                        g.nodes[rnd(n as u64) as usize],
                        g.nodes[rnd(n as u64) as usize],
                    );
                    if f != t && !g.edges.contains(&(f, t)) {
                        g.edges.push((f, t));
                    }
                    vec![t]
                }
                _ => {
                    let node = g.nodes[rnd(n as u64) as usize];
                    g.explicit.insert(
                        node,
                        Classification {
                            confidentiality: level(rnd(4)),
                            ..Default::default()
                        },
                    );
                    vec![node]
                }
            };
            let inc = g.incremental(&before, &seeds);
            let full = g.full();
            for node in &g.nodes {
                for d in 0..3 {
                    assert_eq!(inc[node][d].level, full[node][d].level, "levels agree");
                    let path = g.path(&inc, *node, d);
                    assert_eq!(
                        inc[&path[path.len() - 1]][d].source,
                        inc[node][d].source,
                        "path ends at the source"
                    );
                }
            }
        }
    }
}
