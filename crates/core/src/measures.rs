//! Required measures and their implementation per CI, and the gap between them.
//!
//! Required controls of a CI = the baseline mapped to its high-water-mark level, plus
//! controls added explicitly to it or to anything it inherits classification from. A
//! control implemented on a business service and marked inheritable counts for everything
//! that service relies on (a common control), unless the CI has its own record.

use crate::error::DomainError;
use crate::ids::{CiId, ControlId, UserId};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplStatus {
    NotStarted,
    Planned,
    Implemented,
    Verified,
    Failed,
    NotApplicable,
}

impl ImplStatus {
    pub const ALL: [ImplStatus; 6] = [
        ImplStatus::NotStarted,
        ImplStatus::Planned,
        ImplStatus::Implemented,
        ImplStatus::Verified,
        ImplStatus::Failed,
        ImplStatus::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImplStatus::NotStarted => "not_started",
            ImplStatus::Planned => "planned",
            ImplStatus::Implemented => "implemented",
            ImplStatus::Verified => "verified",
            ImplStatus::Failed => "failed",
            ImplStatus::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        ImplStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "status",
                    "must be not_started, planned, implemented, verified, failed or not_applicable",
                )
            })
    }
}

/// How a CI implements one control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Implementation {
    pub ci_id: CiId,
    pub control_id: ControlId,
    pub status: ImplStatus,
    /// Required for not_applicable.
    pub justification: String,
    pub evidence: String,
    pub links: Vec<String>,
    pub owner_id: Option<UserId>,
    pub last_verified_at: Option<Timestamp>,
    pub next_review_at: Option<Timestamp>,
    /// On a business service: the CIs it relies on inherit this implementation.
    pub inheritable: bool,
    pub updated_at: Timestamp,
}

/// Validates the fields a person sets.
pub fn check_implementation(
    status: ImplStatus,
    justification: &str,
    links: &[String],
) -> Result<(), DomainError> {
    if status == ImplStatus::NotApplicable && justification.trim().is_empty() {
        return Err(DomainError::new(
            "justification",
            "is required when a control is not applicable",
        ));
    }
    if links.len() > 20 {
        return Err(DomainError::new("links", "at most 20 links"));
    }
    for l in links {
        if !(l.starts_with("https://") || l.starts_with("http://"))
            || l.len() > 2000
            || l.chars().any(char::is_whitespace)
        {
            return Err(DomainError::new(
                "links",
                "each link must be an http(s) URL without spaces",
            ));
        }
    }
    Ok(())
}

/// An evidence file's description (the content is fetched separately).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceFile {
    pub id: crate::ids::EvidenceId,
    pub ci_id: CiId,
    pub control_id: ControlId,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Lower-case hex SHA-256 of the content, also recorded in the audit log.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
}

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// A safe file name: the last path component, printable, at most 200 characters.
pub fn clean_file_name(name: &str) -> Result<String, DomainError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(DomainError::new("file_name", "must name the file"));
    }
    Ok(cleaned)
}

/// Why a control is required of a CI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Part of the baseline for the CI's high-water-mark level.
    Baseline,
    /// Added explicitly to this CI or to a CI it inherits classification from.
    Added { on: CiId },
}

/// One required control of a CI and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapLine {
    pub control_id: ControlId,
    pub reasons: Vec<Reason>,
    /// The implementation in effect (own, or inherited from a business service).
    pub implementation: Option<Implementation>,
    /// Set when the implementation in effect is another CI's (a common control).
    pub inherited_from: Option<CiId>,
    pub overdue: bool,
}

impl GapLine {
    pub fn status(&self) -> ImplStatus {
        self.implementation
            .as_ref()
            .map(|i| i.status)
            .unwrap_or(ImplStatus::NotStarted)
    }
}

/// Counts over a set of gap lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct GapSummary {
    pub required: usize,
    pub implemented: usize,
    pub verified: usize,
    pub not_applicable: usize,
    pub failed: usize,
    /// Not started or planned.
    pub missing: usize,
    pub overdue_reviews: usize,
    /// (implemented + verified + not applicable) / required, in percent; 100 when nothing
    /// is required.
    pub coverage_pct: f64,
}

impl GapSummary {
    pub fn of(lines: &[GapLine]) -> Self {
        let mut s = GapSummary::default();
        for l in lines {
            s.count(l.status(), l.overdue);
        }
        s.finish();
        s
    }

    fn pct(&self) -> f64 {
        if self.required == 0 {
            return 100.0;
        }
        let done = (self.implemented + self.verified + self.not_applicable) as f64;
        (done * 1000.0 / self.required as f64).round() / 10.0
    }

    /// Counts one required control (for building a summary without the lines); call
    /// [`GapSummary::finish`] afterwards.
    pub fn count(&mut self, status: ImplStatus, overdue: bool) {
        self.required += 1;
        match status {
            ImplStatus::Implemented => self.implemented += 1,
            ImplStatus::Verified => self.verified += 1,
            ImplStatus::NotApplicable => self.not_applicable += 1,
            ImplStatus::Failed => self.failed += 1,
            ImplStatus::NotStarted | ImplStatus::Planned => self.missing += 1,
        }
        if overdue {
            self.overdue_reviews += 1;
        }
    }

    /// Computes the coverage from the counts.
    pub fn finish(&mut self) {
        self.coverage_pct = self.pct();
    }

    pub fn add(&mut self, o: &GapSummary) {
        self.required += o.required;
        self.implemented += o.implemented;
        self.verified += o.verified;
        self.not_applicable += o.not_applicable;
        self.failed += o.failed;
        self.missing += o.missing;
        self.overdue_reviews += o.overdue_reviews;
        self.coverage_pct = self.pct();
    }
}

/// Everything needed to compute one CI's gap.
pub struct GapInput<'a> {
    pub ci: CiId,
    /// Controls of the baseline for its level (empty when no baseline is mapped).
    pub baseline: &'a [ControlId],
    /// Controls added explicitly to this CI or to CIs it inherits from: (control, on).
    pub added: &'a [(ControlId, CiId)],
    pub own: &'a [Implementation],
    /// Inheritable implementations on business services this CI relies on.
    pub common: &'a [Implementation],
    pub now: Timestamp,
}

/// Required controls of a CI with their implementation in effect. Sorted by control id.
pub fn gap_lines(g: &GapInput<'_>) -> Vec<GapLine> {
    let mut reasons: BTreeMap<ControlId, Vec<Reason>> = BTreeMap::new();
    for c in g.baseline {
        reasons.entry(*c).or_default().push(Reason::Baseline);
    }
    for (c, on) in g.added {
        reasons
            .entry(*c)
            .or_default()
            .push(Reason::Added { on: *on });
    }
    let own: HashMap<ControlId, &Implementation> =
        g.own.iter().map(|i| (i.control_id, i)).collect();
    let mut common: HashMap<ControlId, &Implementation> = HashMap::new();
    for i in g.common.iter().filter(|i| i.inheritable) {
        // With several services offering one control, the best status wins.
        let better = common
            .get(&i.control_id)
            .is_none_or(|cur| rank(i.status) > rank(cur.status));
        if better {
            common.insert(i.control_id, i);
        }
    }
    reasons
        .into_iter()
        .map(|(control_id, mut rs)| {
            rs.sort();
            rs.dedup();
            let (implementation, inherited_from) = match own.get(&control_id) {
                Some(i) => (Some((*i).clone()), None),
                None => match common.get(&control_id) {
                    Some(i) => (Some((*i).clone()), Some(i.ci_id)),
                    None => (None, None),
                },
            };
            let overdue = implementation
                .as_ref()
                .is_some_and(|i| is_overdue(i, g.now));
            GapLine {
                control_id,
                reasons: rs,
                implementation,
                inherited_from,
                overdue,
            }
        })
        .collect()
}

/// The inheritable implementations a CI may use, indexed once per distinct list (many CIs
/// of one service share it): with several services offering one control, the best status
/// wins.
pub struct CommonIndex<'a>(HashMap<ControlId, &'a Implementation>);

impl<'a> CommonIndex<'a> {
    pub fn new(common: &'a [Implementation]) -> Self {
        let mut m: HashMap<ControlId, &Implementation> = HashMap::new();
        for i in common.iter().filter(|i| i.inheritable) {
            if m.get(&i.control_id)
                .is_none_or(|cur| rank(i.status) > rank(cur.status))
            {
                m.insert(i.control_id, i);
            }
        }
        Self(m)
    }
}

/// One required control of a CI as [`gap_scan`] sees it (borrowed, nothing copied).
#[derive(Debug, Clone, Copy)]
pub struct GapItem<'a> {
    pub control_id: ControlId,
    pub implementation: Option<&'a Implementation>,
    /// Set when the implementation in effect is a business service's common control.
    pub inherited_from: Option<CiId>,
    pub overdue: bool,
}

impl GapItem<'_> {
    pub fn status(&self) -> ImplStatus {
        self.implementation
            .map(|i| i.status)
            .unwrap_or(ImplStatus::NotStarted)
    }
}

/// Calls `f` for every required control of a CI (baseline ∪ added, each once, in control
/// order) with the implementation in effect — the same answer as [`gap_lines`] without
/// building reasons or copying implementations, for reports over thousands of CIs.
/// `scratch` is reused between calls.
pub fn gap_scan<'a>(
    baseline: &[ControlId],
    added: &[(ControlId, CiId)],
    own: &'a [Implementation],
    common: &CommonIndex<'a>,
    now: Timestamp,
    scratch: &mut Vec<ControlId>,
    mut f: impl FnMut(GapItem<'a>),
) {
    scratch.clear();
    scratch.extend_from_slice(baseline);
    scratch.extend(added.iter().map(|(c, _)| *c));
    scratch.sort_unstable();
    scratch.dedup();
    for c in scratch.iter() {
        let (implementation, inherited_from) = match own.iter().find(|i| i.control_id == *c) {
            Some(i) => (Some(i), None),
            None => match common.0.get(c) {
                Some(i) => (Some(*i), Some(i.ci_id)),
                None => (None, None),
            },
        };
        f(GapItem {
            control_id: *c,
            implementation,
            inherited_from,
            overdue: implementation.is_some_and(|i| is_overdue(i, now)),
        });
    }
}

fn is_overdue(i: &Implementation, now: Timestamp) -> bool {
    i.status != ImplStatus::NotApplicable && i.next_review_at.is_some_and(|r| r < now)
}

fn rank(s: ImplStatus) -> u8 {
    match s {
        ImplStatus::Verified => 5,
        ImplStatus::Implemented => 4,
        ImplStatus::NotApplicable => 3,
        ImplStatus::Planned => 2,
        ImplStatus::NotStarted => 1,
        ImplStatus::Failed => 0,
    }
}

/// The baseline in effect per level (low, moderate, high), and whether it was set
/// explicitly: the explicit mapping, else (FIPS 199 style) the baseline whose name contains
/// the level's word (LOW, MODERATE, HIGH) as a whole word.
pub fn level_baseline_map(
    explicit: [Option<crate::ids::BaselineId>; 3],
    all: &[crate::controls::BaselineInfo],
) -> [(Option<crate::ids::BaselineId>, bool); 3] {
    let mut out = [(None, false); 3];
    use crate::classification::Level;
    for (i, level) in [Level::Low, Level::Moderate, Level::High]
        .into_iter()
        .enumerate()
    {
        out[i] = match explicit[i] {
            Some(b) => (Some(b), true),
            None => {
                let word = level.as_str().to_uppercase();
                let by_name = all.iter().find(|b| {
                    b.name
                        .to_uppercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w == word)
                });
                (by_name.map(|b| b.id), false)
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imp(
        ci: CiId,
        c: ControlId,
        status: ImplStatus,
        review: Option<i64>,
        inheritable: bool,
    ) -> Implementation {
        Implementation {
            ci_id: ci,
            control_id: c,
            status,
            justification: String::new(),
            evidence: String::new(),
            links: vec![],
            owner_id: None,
            last_verified_at: None,
            next_review_at: review.map(Timestamp),
            inheritable,
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn required_set_common_controls_and_overdue_reviews() {
        let (ci, svc) = (CiId::new(), CiId::new());
        let [a, b, c, d] = [0; 4].map(|_| ControlId::new());
        let own = [
            imp(ci, a, ImplStatus::Verified, Some(2_000), false),
            imp(ci, b, ImplStatus::Failed, None, false),
        ];
        let common = [
            imp(svc, c, ImplStatus::Implemented, Some(500), true),
            imp(svc, d, ImplStatus::Verified, None, false),
        ];
        let lines = gap_lines(&GapInput {
            ci,
            baseline: &[a, b, c],
            added: &[(d, svc), (a, svc)],
            own: &own,
            common: &common,
            now: Timestamp(1_000),
        });
        assert_eq!(lines.len(), 4);
        let by = |k: ControlId| lines.iter().find(|l| l.control_id == k).unwrap();
        assert_eq!(
            by(a).reasons,
            vec![Reason::Baseline, Reason::Added { on: svc }]
        );
        assert_eq!(
            by(c).inherited_from,
            Some(svc),
            "common control from the service"
        );
        assert!(by(c).overdue, "its review date has passed");
        assert!(!by(a).overdue);
        assert_eq!(
            by(d).status(),
            ImplStatus::NotStarted,
            "not inheritable, so not counted"
        );
        let s = GapSummary::of(&lines);
        assert_eq!(
            (
                s.required,
                s.verified,
                s.implemented,
                s.failed,
                s.missing,
                s.overdue_reviews
            ),
            (4, 1, 1, 1, 1, 1)
        );
        assert_eq!(s.coverage_pct, 50.0);
        assert_eq!(GapSummary::of(&[]).coverage_pct, 100.0);

        // The scan used for large reports gives the same answer, control by control.
        let index = CommonIndex::new(&common);
        let mut scanned = vec![];
        gap_scan(
            &[a, b, c],
            &[(d, svc), (a, svc)],
            &own,
            &index,
            Timestamp(1_000),
            &mut vec![],
            |i| scanned.push((i.control_id, i.status(), i.inherited_from, i.overdue)),
        );
        let expected: Vec<_> = lines
            .iter()
            .map(|l| (l.control_id, l.status(), l.inherited_from, l.overdue))
            .collect();
        assert_eq!(scanned, expected);
    }

    #[test]
    fn file_names_lose_paths_and_quotes() {
        assert_eq!(
            clean_file_name("C:\\temp\\wipe \"log\".pdf").unwrap(),
            "wipe log.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd").unwrap(), "passwd");
        assert!(clean_file_name("..").is_err());
        assert!(clean_file_name("").is_err());
    }

    #[test]
    fn not_applicable_needs_a_reason_and_links_are_urls() {
        assert!(check_implementation(ImplStatus::NotApplicable, " ", &[]).is_err());
        assert!(check_implementation(ImplStatus::NotApplicable, "no personal data", &[]).is_ok());
        assert!(
            check_implementation(ImplStatus::Verified, "", &["javascript:alert(1)".into()])
                .is_err()
        );
        assert!(check_implementation(ImplStatus::Verified, "", &["https://wiki/x".into()]).is_ok());
    }

    #[test]
    fn a_level_without_a_mapping_takes_the_baseline_named_after_it() {
        use crate::controls::BaselineInfo;
        use crate::ids::{BaselineId, CatalogId};
        let b = |name: &str| BaselineInfo {
            id: BaselineId::new(),
            name: name.into(),
            catalog_id: CatalogId::new(),
            controls: 0,
        };
        let all = [
            b("NIST SP 800-53 Rev 5 LOW Baseline"),
            b("NIST SP 800-53 Rev 5 MODERATE Baseline"),
            b("HIGHLY custom"),
        ];
        let chosen = BaselineId::new();
        let map = level_baseline_map([None, None, Some(chosen)], &all);
        assert_eq!(map[0], (Some(all[0].id), false));
        assert_eq!(map[1], (Some(all[1].id), false));
        assert_eq!(map[2], (Some(chosen), true));
        // "HIGHLY" is not the word HIGH: no baseline for high without a mapping.
        assert_eq!(level_baseline_map([None; 3], &all)[2], (None, false));
    }
}
