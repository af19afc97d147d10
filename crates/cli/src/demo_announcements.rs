//! Demo announcements, written through the same use cases as the API and pages: the
//! payroll service owner announces next Saturday's maintenance, the service desk a new way
//! to report phishing and, for agents only, the month-end change freeze; a resolved e-mail
//! outage from yesterday is in the managers' list of past notices.

use anyhow::anyhow;
use custos_core::Timestamp;
use custos_core::announcement::{AnnouncementInput, Audience, Severity};
use custos_core::authz::Actor;
use custos_core::store::Store;
use custos_core::time::Date;
use custos_server::announcements as uc;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Midnight (UTC) of the next Saturday after `now` (a week on if today is Saturday).
fn next_saturday(now: Timestamp) -> Timestamp {
    let days = now.0.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: days % 7 == 2 is a Saturday.
    let ahead = (2 - days.rem_euclid(7)).rem_euclid(7);
    Timestamp((days + if ahead == 0 { 7 } else { ahead }) * DAY_MS)
}

pub async fn seed(store: &dyn Store, agent: &Actor, owner: &Actor) -> anyhow::Result<()> {
    let failed = |e: custos_core::Error| anyhow!("seeding the demo announcements failed: {e}");
    let input = |e: custos_core::DomainError| anyhow!("demo announcement: {e}");
    let now = Timestamp::now();
    let service = |key: &'static str| async move {
        store
            .ci_by_key(key)
            .await
            .map(|r| Some(r.ci.id))
            .map_err(|e| anyhow!("demo announcement service {key}: {e}"))
    };
    let saturday = next_saturday(now);
    let day = Date::of(saturday);
    let maintenance = AnnouncementInput::new(
        "Payroll unavailable on Saturday morning",
        &format!(
            "PayWise and its database move to new servers on Saturday {day}, 06:00–12:00 UTC. \
             Payroll and payslips are unavailable during that time; the month-end bank \
             transfer is not affected.\nQuestions: report them on the portal under \"Payroll\"."
        ),
        Severity::Maintenance,
        service("svc-payroll").await?,
        now.minus_secs(3600),
        Timestamp(saturday.0 + 12 * HOUR_MS),
        Audience::Everyone,
    )
    .map_err(input)?;
    uc::create(store, owner, maintenance)
        .await
        .map_err(failed)?;

    let phishing = AnnouncementInput::new(
        "Report suspicious e-mail on the portal",
        "Received an e-mail that asks for your password or payment details? Do not click. \
         Report it on the portal (\"A suspicious e-mail, message or call\"); the security team \
         looks at every report.",
        Severity::Info,
        service("svc-email").await?,
        now.minus_secs(2 * 86_400),
        now.plus_secs(14 * 86_400),
        Audience::Everyone,
    )
    .map_err(input)?;
    uc::create(store, agent, phishing).await.map_err(failed)?;

    let freeze = AnnouncementInput::new(
        "Change freeze on payroll until the month-end run",
        "No changes to PayWise, db-payroll or vm-payroll-01 until the salaries are paid. \
         Incidents on payroll go to the Service desk group and to Oliver Owner at once.",
        Severity::Info,
        service("svc-payroll").await?,
        now.minus_secs(86_400),
        now.plus_secs(5 * 86_400),
        Audience::Agents,
    )
    .map_err(input)?;
    uc::create(store, agent, freeze).await.map_err(failed)?;

    let resolved = AnnouncementInput::new(
        "E-mail delays",
        "Incoming mail was delayed by up to an hour; all queued mail has been delivered.",
        Severity::Outage,
        service("svc-email").await?,
        now.minus_secs(30 * 3600),
        now.minus_secs(26 * 3600),
        Audience::Everyone,
    )
    .map_err(input)?;
    uc::create(store, agent, resolved).await.map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_saturday_is_after_now_and_a_saturday() {
        // 2026-11-26 was a Thursday; 2026-11-28 a Saturday.
        let thursday = Timestamp(1_795_651_200_000);
        assert_eq!(Date::of(next_saturday(thursday)).as_str(), "2026-11-28");
        let saturday_noon = Timestamp(1_795_824_000_000 + 12 * HOUR_MS);
        assert_eq!(
            Date::of(next_saturday(saturday_noon)).as_str(),
            "2026-12-05"
        );
    }
}
