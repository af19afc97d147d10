//! The lifecycle of a problem and the security review gate its fixes pass: status moves
//! with their guards, editing, submitting, reviewing and publishing a fix, and voiding
//! approvals that no longer cover the problem.

use super::*;

fn closed_error() -> ProblemError {
    ProblemError::State("a closed problem cannot be changed".into())
}

impl Problem {
    /// A new problem (number and reference are given when it is stored).
    pub fn new(f: ProblemFields, by: Option<UserId>, now: Timestamp) -> Self {
        Self {
            id: ProblemId::new(),
            number: 0,
            reference: String::new(),
            title: f.title,
            description: f.description,
            status: ProblemStatus::New,
            service: f.service,
            cis: f.cis,
            assignee: f.assignee,
            introduces_security_risk: f.introduces_security_risk,
            root_cause: f.root_cause,
            workaround: Fix::default(),
            solution: Fix::default(),
            created_by: by,
            created_at: now,
            updated_at: now,
            resolved_at: None,
            closed_at: None,
        }
    }

    /// Every affected CI: the CIs and the service, sorted, without repeats.
    pub fn affected(&self) -> Vec<CiId> {
        affected(self.service, &self.cis)
    }

    pub fn fix(&self, kind: FixKind) -> &Fix {
        match kind {
            FixKind::Workaround => &self.workaround,
            FixKind::Solution => &self.solution,
        }
    }

    fn fix_mut(&mut self, kind: FixKind) -> &mut Fix {
        match kind {
            FixKind::Workaround => &mut self.workaround,
            FixKind::Solution => &mut self.solution,
        }
    }

    /// Whether it has a published workaround (a known error record agents can use).
    pub fn is_known_error(&self) -> bool {
        self.workaround.state == FixState::Published
    }

    /// The affected CIs the patch would leave.
    pub fn affected_after(&self, p: &ProblemPatch) -> Vec<CiId> {
        affected(
            p.service.unwrap_or(self.service),
            p.cis.as_deref().unwrap_or(&self.cis),
        )
    }

    /// Applies a validated patch. `needs_review` is [`needs_security_review`] of the
    /// problem as patched. Approvals that no longer cover the affected CIs or the risk
    /// flag are voided first, then the status moves (with its guards).
    pub fn apply_patch(
        &mut self,
        p: ProblemPatch,
        needs_review: bool,
        now: Timestamp,
    ) -> Result<(), ProblemError> {
        if self.status == ProblemStatus::Closed {
            return Err(closed_error());
        }
        if let Some(t) = p.title {
            self.title = t;
        }
        if let Some(d) = p.description {
            self.description = d;
        }
        if let Some(s) = p.service {
            self.service = s;
        }
        if let Some(c) = p.cis {
            self.cis = c;
        }
        if let Some(a) = p.assignee {
            self.assignee = a;
        }
        if let Some(r) = p.root_cause {
            self.root_cause = r;
        }
        if let Some(f) = p.introduces_security_risk {
            self.introduces_security_risk = f;
        }
        self.revalidate(needs_review);
        if let Some(to) = p.status
            && to != self.status
        {
            self.transition(to, now)?;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Voids approvals (and withdraws publications) that no longer cover the problem: an
    /// affected CI the review did not check, or a risk flag raised since. A known error
    /// whose workaround is withdrawn is under investigation again.
    pub fn revalidate(&mut self, needs_review: bool) {
        if !needs_review {
            return;
        }
        let affected = self.affected();
        let risk = self.introduces_security_risk;
        for kind in [FixKind::Workaround, FixKind::Solution] {
            let f = self.fix_mut(kind);
            if matches!(f.state, FixState::Approved | FixState::Published)
                && !f.approval_covers(&affected, risk)
            {
                f.reset();
            }
        }
        self.after_withdrawal();
    }

    fn after_withdrawal(&mut self) {
        if self.status == ProblemStatus::KnownError && !self.is_known_error() {
            self.status = ProblemStatus::Investigating;
        }
    }

    /// Moves the status. Known error needs a published workaround; resolved needs a
    /// published solution.
    pub fn transition(&mut self, to: ProblemStatus, now: Timestamp) -> Result<(), ProblemError> {
        if !self.status.can_move_to(to) {
            return Err(ProblemError::State(format!(
                "a problem cannot go from {} to {}",
                self.status, to
            )));
        }
        match to {
            ProblemStatus::KnownError if !self.is_known_error() => {
                return Err(DomainError::new(
                    "status",
                    "a problem becomes a known error once its workaround is published",
                )
                .into());
            }
            ProblemStatus::Resolved if self.solution.state != FixState::Published => {
                return Err(DomainError::new(
                    "status",
                    "a problem is resolved once its permanent solution is published",
                )
                .into());
            }
            _ => {}
        }
        match to {
            ProblemStatus::Resolved => self.resolved_at = Some(now),
            ProblemStatus::Closed => self.closed_at = Some(now),
            ProblemStatus::Investigating => self.resolved_at = None,
            _ => {}
        }
        self.status = to;
        self.updated_at = now;
        Ok(())
    }

    /// Replaces a fix's text. A changed text is a draft again: its approval was for the old
    /// text, and a published one is withdrawn. Returns whether anything changed.
    pub fn set_fix_text(
        &mut self,
        kind: FixKind,
        text: &str,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<bool, ProblemError> {
        if self.status == ProblemStatus::Closed {
            return Err(closed_error());
        }
        let text = long_text("text", text)?;
        let f = self.fix_mut(kind);
        if f.text == text {
            return Ok(false);
        }
        f.text = text;
        f.reset();
        f.edited_by = by;
        f.edited_at = Some(now);
        self.after_withdrawal();
        self.updated_at = now;
        Ok(true)
    }

    /// Asks a security manager to review the current text.
    pub fn submit(
        &mut self,
        kind: FixKind,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<(), ProblemError> {
        if self.status == ProblemStatus::Closed {
            return Err(closed_error());
        }
        let f = self.fix_mut(kind);
        if f.text.is_empty() {
            return Err(DomainError::new("text", "write the text before submitting it").into());
        }
        if !matches!(f.state, FixState::Draft | FixState::Rejected) {
            return Err(ProblemError::State(format!(
                "only a draft or rejected {kind} can be submitted for review (it is {})",
                f.state
            )));
        }
        f.state = FixState::PendingReview;
        f.submitted_by = by;
        f.submitted_at = Some(now);
        f.review = None;
        self.updated_at = now;
        Ok(())
    }

    /// Records a security manager's decision on a pending fix, with the check the reviewer
    /// was shown. Returns the review for the history.
    pub fn review(
        &mut self,
        kind: FixKind,
        input: ReviewInput,
        check: SecurityCheck,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<Review, ProblemError> {
        if self.status == ProblemStatus::Closed {
            return Err(closed_error());
        }
        let input = input.validate()?;
        let affected = self.affected();
        if !check.covers(&affected) {
            return Err(ProblemError::State(
                "the security check does not cover every affected CI".into(),
            ));
        }
        let risk = self.introduces_security_risk;
        let f = self.fix_mut(kind);
        if f.state != FixState::PendingReview {
            return Err(ProblemError::State(format!(
                "only a {kind} waiting for review can be approved or rejected (it is {})",
                f.state
            )));
        }
        // Four eyes: whoever wrote or submitted the text cannot approve it.
        if input.approve && by.is_some() && (by == f.edited_by || by == f.submitted_by) {
            return Err(ProblemError::State(format!(
                "you wrote or submitted this {kind}: another security manager must approve it"
            )));
        }
        let decision = if input.approve {
            Decision::Approved
        } else {
            Decision::Rejected
        };
        let review = Review {
            fix: kind,
            reviewer: by,
            at: now,
            decision,
            reasons: input.reasons,
            sla_requirements_met: input.sla_requirements_met,
            baseline_met: input.baseline_met,
            notes: input.notes,
            text_sha256: crate::secret::sha256_hex(f.text.as_bytes()),
            security_risk: risk,
            check,
        };
        f.state = if input.approve {
            FixState::Approved
        } else {
            FixState::Rejected
        };
        f.review = Some(review.clone());
        self.updated_at = now;
        Ok(review)
    }

    /// Publishes a fix: allowed when a security manager approved its current text, or —
    /// when no review is needed — straight from draft.
    pub fn publish(
        &mut self,
        kind: FixKind,
        needs_review: bool,
        by: Option<UserId>,
        now: Timestamp,
    ) -> Result<(), ProblemError> {
        if self.status == ProblemStatus::Closed {
            return Err(closed_error());
        }
        let affected = self.affected();
        let risk = self.introduces_security_risk;
        let f = self.fix_mut(kind);
        if f.text.is_empty() {
            return Err(DomainError::new("text", "there is nothing to publish yet").into());
        }
        match f.state {
            FixState::Approved if !needs_review || f.approval_covers(&affected, risk) => {}
            FixState::Draft if !needs_review => {}
            FixState::Published => {
                return Err(ProblemError::State(format!(
                    "the {kind} is already published"
                )));
            }
            FixState::PendingReview => {
                return Err(ProblemError::State(format!(
                    "the {kind} waits for a security manager's review; it can be published once approved"
                )));
            }
            FixState::Rejected => {
                return Err(ProblemError::State(format!(
                    "a security manager rejected this {kind}; change it and submit it again"
                )));
            }
            FixState::Approved | FixState::Draft => return Err(ProblemError::ReviewRequired(kind)),
        }
        f.state = FixState::Published;
        f.published_by = by;
        f.published_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Refuses to apply a workaround that is not published.
    pub fn check_applicable(&self) -> Result<(), ProblemError> {
        if self.workaround.state == FixState::Published && !self.workaround.text.is_empty() {
            Ok(())
        } else {
            Err(ProblemError::State(
                "only a published workaround can be applied to incidents".into(),
            ))
        }
    }

    /// What the audit log records of a problem: references, states and flags, and the
    /// SHA-256 of each text (so a change shows without its content).
    pub fn audit_view(&self) -> serde_json::Value {
        let sha = |s: &str| crate::secret::sha256_hex(s.as_bytes());
        serde_json::json!({
            "reference": self.reference,
            "status": self.status.as_str(),
            "service": self.service,
            "cis": self.cis,
            "assignee": self.assignee,
            "introduces_security_risk": self.introduces_security_risk,
            "title_sha256": sha(&self.title),
            "description_sha256": sha(&self.description),
            "root_cause_sha256": sha(&self.root_cause),
            "workaround_state": self.workaround.state.as_str(),
            "workaround_sha256": sha(&self.workaround.text),
            "solution_state": self.solution.state.as_str(),
            "solution_sha256": sha(&self.solution.text),
        })
    }
}

fn affected(service: Option<CiId>, cis: &[CiId]) -> Vec<CiId> {
    let mut all: Vec<CiId> = cis.iter().copied().chain(service).collect();
    all.sort();
    all.dedup();
    all
}
