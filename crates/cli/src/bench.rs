//! `custos bench cmdb`: builds a synthetic CMDB of the requested size in the configured
//! database and prints timings (import, full re-classification, impact analysis, one
//! relationship change, one service's gap report) and the process's peak memory. It
//! prints figures and asserts nothing; see docs/benchmarks.md.

use anyhow::anyhow;
use custos_core::authz::Actor;
use custos_core::classification::{Classification, Level};
use custos_core::cmdb::{CiInput, Direction, Lifecycle, RelType};
use custos_core::store::Store;
use std::time::{Duration, Instant};

/// Deterministic pseudo-random numbers (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn key(i: usize) -> String {
    format!("b{i}")
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.0} MiB", kb / 1024.0))
        .unwrap_or_else(|| "unknown".into())
}

/// The synthetic CMDB: `cis` CIs of mixed types and about `rels` relationships, plus one
/// bench service relying on a tree of 1,110 CIs (10 applications × 10 VMs × 10 databases).
///
/// With `reuse`, a database that already holds the bench CMDB (from an earlier run with the
/// same `cis`) is timed again without rebuilding it.
pub async fn run(store: &dyn Store, cis: usize, rels: usize, reuse: bool) -> anyhow::Result<()> {
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    println!(
        "backend: {}; CIs: {cis}; relationships: ~{rels}",
        store.backend()
    );
    let built = match store.ci_by_key("bench-svc").await {
        Ok(_) => true,
        Err(custos_core::StoreError::NotFound { .. }) => false,
        Err(err) => return Err(e(err)),
    };
    match (built, reuse) {
        (true, true) => println!("reusing the bench CMDB already in this database"),
        (true, false) => anyhow::bail!(
            "this database already holds a bench CMDB: pass --reuse to time it again, or use an empty database"
        ),
        (false, _) => build(store, cis, rels).await?,
    }
    measure(store, cis).await
}

async fn build(store: &dyn Store, cis: usize, rels: usize) -> anyhow::Result<()> {
    let actor = Actor::System("bench");
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    let types = [
        "business_service",
        "application",
        "virtual_machine",
        "server",
        "database",
        "dataset",
        "network_device",
    ];
    // Shares of each type (per mille).
    let share = [10, 150, 400, 100, 150, 180, 10];
    let kind = |i: usize| {
        let m = i % 1000;
        let mut acc = 0;
        for (t, s) in share.iter().enumerate() {
            acc += s;
            if m < acc {
                return t;
            }
        }
        types.len() - 1
    };
    let t0 = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..cis {
        let attrs = serde_json::json!({"rack": format!("R{}", i % 97), "os": if i % 3 == 0 { "Debian 12" } else { "Windows Server 2022" }});
        batch.push(CiInput::new(
            types[kind(i)],
            &format!("ci-{i}"),
            Some(&key(i)),
            Lifecycle::Active,
            attrs,
        )?);
        if batch.len() == 10_000 {
            store
                .bulk_upsert_cis(&actor, std::mem::take(&mut batch))
                .await
                .map_err(e)?;
        }
    }
    store.bulk_upsert_cis(&actor, batch).await.map_err(e)?;
    let t_cis = t0.elapsed();
    // Relationships form layers, as real CMDBs do: services → applications → databases →
    // VMs → servers, databases hold datasets, servers connect to network devices. Each edge
    // goes from an upper-layer CI to a lower-layer one, so the graph has no giant cycle.
    let layer = |t: usize| match types[t] {
        "business_service" => 0,
        "application" => 1,
        "database" => 2,
        "dataset" | "virtual_machine" => 3,
        "server" => 4,
        _ => 5,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t1 = Instant::now();
    let mut edges = Vec::with_capacity(10_000);
    let mut made = 0;
    while made < rels {
        let (mut a, mut b) = (rng.below(cis), rng.below(cis));
        if layer(kind(a)) > layer(kind(b)) {
            std::mem::swap(&mut a, &mut b);
        }
        if layer(kind(a)) == layer(kind(b)) {
            continue;
        }
        let rel = match (types[kind(a)], types[kind(b)]) {
            ("database", "dataset") => RelType::StoresDataOf,
            ("database" | "application", "virtual_machine") => RelType::RunsOn,
            ("virtual_machine", "server") => RelType::HostedBy,
            (_, "network_device") => RelType::ConnectsTo,
            _ => RelType::DependsOn,
        };
        edges.push((key(a), rel, key(b)));
        made += 1;
        if edges.len() == 10_000 {
            store
                .bulk_add_relationships(&actor, std::mem::take(&mut edges))
                .await
                .map_err(e)?;
        }
    }
    store
        .bulk_add_relationships(&actor, edges)
        .await
        .map_err(e)?;
    let t_rels = t1.elapsed();
    // The bench service and its tree.
    let mut tree = vec![CiInput::new(
        "business_service",
        "bench service",
        Some("bench-svc"),
        Lifecycle::Active,
        serde_json::json!({}),
    )?];
    let mut tree_edges = vec![];
    for a in 0..10 {
        tree.push(CiInput::new(
            "application",
            &format!("bench app {a}"),
            Some(&format!("bench-a{a}")),
            Lifecycle::Active,
            serde_json::json!({}),
        )?);
        tree_edges.push((
            "bench-svc".to_string(),
            RelType::DependsOn,
            format!("bench-a{a}"),
        ));
        for v in 0..10 {
            tree.push(CiInput::new(
                "virtual_machine",
                &format!("bench vm {a}.{v}"),
                Some(&format!("bench-v{a}.{v}")),
                Lifecycle::Active,
                serde_json::json!({}),
            )?);
            tree_edges.push((
                format!("bench-a{a}"),
                RelType::RunsOn,
                format!("bench-v{a}.{v}"),
            ));
            for d in 0..10 {
                tree.push(CiInput::new(
                    "database",
                    &format!("bench db {a}.{v}.{d}"),
                    Some(&format!("bench-d{a}.{v}.{d}")),
                    Lifecycle::Active,
                    serde_json::json!({}),
                )?);
                tree_edges.push((
                    format!("bench-v{a}.{v}"),
                    RelType::DependsOn,
                    format!("bench-d{a}.{v}.{d}"),
                ));
            }
        }
    }
    store.bulk_upsert_cis(&actor, tree).await.map_err(e)?;
    store
        .bulk_add_relationships(&actor, tree_edges)
        .await
        .map_err(e)?;
    println!(
        "import: {cis} CIs in {:.1} s ({:.0}/s); {rels} relationships in {:.1} s ({:.0}/s)",
        t_cis.as_secs_f64(),
        cis as f64 / t_cis.as_secs_f64(),
        t_rels.as_secs_f64(),
        rels as f64 / t_rels.as_secs_f64()
    );

    crate::demo::load_nist(store, &actor).await?;
    store.analyze().await.map_err(e)?;
    // Classify the bench service high, then recompute everything from scratch.
    let svc = store.ci_by_key("bench-svc").await.map_err(e)?.ci.id;
    let high = Classification {
        confidentiality: Some(Level::High),
        ..Default::default()
    };
    store
        .set_classification(&actor, svc, high, "bench")
        .await
        .map_err(e)?;
    Ok(())
}

async fn measure(store: &dyn Store, cis: usize) -> anyhow::Result<()> {
    let actor = Actor::System("bench");
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    let svc = store.ci_by_key("bench-svc").await.map_err(e)?.ci.id;
    let mut full = vec![];
    let mut fixed = 0;
    for _ in 0..3 {
        let t = Instant::now();
        fixed += store.recompute_classification().await.map_err(e)?;
        full.push(t.elapsed());
    }
    // The incremental updates keep every CI right, so a full recompute changes nothing.
    println!(
        "full re-classification (3 runs, {fixed} CIs changed): best {}, worst {}",
        ms(pct(full.clone(), 0.0)),
        ms(pct(full, 1.0))
    );

    let mut imp = vec![];
    let mut reached = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let r =
            custos_core::cmdb::impact(svc, Direction::Downstream, 10, 100_000, |ids| async move {
                store.edges_touching(&ids).await
            })
            .await
            .map_err(e)?;
        imp.push(t.elapsed());
        reached = r.into_iter().map(|i| i.ci).collect::<Vec<_>>();
    }
    println!(
        "impact analysis of the bench service (downstream, {} CIs reached, 50 runs): p50 {}, p99 {}",
        reached.len(),
        ms(pct(imp.clone(), 0.5)),
        ms(pct(imp, 0.99))
    );

    // One relationship change: link the C=high service to one more CI and remove it again;
    // each write re-propagates the region below that CI (all of it changes level).
    let leaf = store.ci_by_key(&key(cis / 2)).await.map_err(e)?.ci.id;
    let (mut add, mut del) = (vec![], vec![]);
    for _ in 0..20 {
        let t = Instant::now();
        let r = store
            .add_relationship(&actor, svc, leaf, RelType::DependsOn)
            .await
            .map_err(e)?;
        add.push(t.elapsed());
        let t = Instant::now();
        store.delete_relationship(&actor, r.id).await.map_err(e)?;
        del.push(t.elapsed());
    }
    // How many CIs each of those changes re-classified (the audit entry records it).
    let region = last_reclassified(store, "relationship.delete").await?;
    println!(
        "one relationship change re-propagated, re-classifying {region} CIs each (20 runs): add p50 {}, remove p50 {}",
        ms(pct(add, 0.5)),
        ms(pct(del, 0.5))
    );

    // The common case: a new dependency whose parent is not classified higher than the
    // child changes no level, and the write skips re-propagation.
    let (p, c) = (
        store.ci_by_key(&key(3 * cis / 4)).await.map_err(e)?.ci.id,
        store
            .ci_by_key(&key(3 * cis / 4 + 1))
            .await
            .map_err(e)?
            .ci
            .id,
    );
    let (mut add, mut del) = (vec![], vec![]);
    for _ in 0..20 {
        let t = Instant::now();
        let r = store
            .add_relationship(&actor, p, c, RelType::DependsOn)
            .await
            .map_err(e)?;
        add.push(t.elapsed());
        let t = Instant::now();
        store.delete_relationship(&actor, r.id).await.map_err(e)?;
        del.push(t.elapsed());
    }
    println!(
        "one relationship change that changes no level (20 runs): add p50 {}, remove p50 {}",
        ms(pct(add, 0.5)),
        ms(pct(del, 0.5))
    );

    // Changes users make: a dependency from a CI the bench service relies on (so it
    // carries the service's level) to a CI picked at random, added and removed again
    // (100 pairs), with how many CIs each re-classified.
    let mut rng = Rng(0x5eed_cafe);
    let (mut add, mut del, mut raised, mut lowered) = (vec![], vec![], vec![], vec![]);
    while add.len() < 100 && !reached.is_empty() {
        let p = reached[rng.below(reached.len())];
        let c = store
            .ci_by_key(&key(rng.below(cis)))
            .await
            .map_err(e)?
            .ci
            .id;
        if p == c {
            continue;
        }
        let t = Instant::now();
        let r = match store
            .add_relationship(&actor, p, c, RelType::DependsOn)
            .await
        {
            Ok(r) => r,
            // Already linked: pick another pair.
            Err(custos_core::StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(e(err)),
        };
        add.push(t.elapsed());
        raised.push(last_reclassified(store, "relationship.create").await?);
        let t = Instant::now();
        store.delete_relationship(&actor, r.id).await.map_err(e)?;
        del.push(t.elapsed());
        lowered.push(last_reclassified(store, "relationship.delete").await?);
    }
    if add.len() == 100 {
        raised.sort();
        lowered.sort();
        println!(
            "relationship changes from a CI the service relies on to a random CI (100 pairs; CIs re-classified p50/p99/max: add {}/{}/{}, remove {}/{}/{}): \
             add p50 {} p99 {}, remove p50 {} p99 {}",
            raised[50],
            raised[98],
            raised[99],
            lowered[50],
            lowered[98],
            lowered[99],
            ms(pct(add.clone(), 0.5)),
            ms(pct(add, 0.99)),
            ms(pct(del.clone(), 0.5)),
            ms(pct(del, 0.99))
        );
    }

    let mut gap = vec![];
    let mut required = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = custos_server::measures::gap_report(store, "service", Some(svc))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        gap.push(t.elapsed());
        required = r.total.required;
    }
    println!(
        "gap report of the bench service ({} CIs, {required} required implementations, 5 runs): p50 {}",
        1111,
        ms(pct(gap, 0.5))
    );
    println!("peak RSS of this process: {}", peak_rss_mib());
    Ok(())
}

/// How many CIs the newest audit entry of `action` says it re-classified.
async fn last_reclassified(store: &dyn Store, action: &str) -> anyhow::Result<u64> {
    let last = store
        .list_audit(
            &custos_core::store::AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            custos_core::page::PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(last
        .items
        .first()
        .and_then(|a| serde_json::from_str::<serde_json::Value>(&a.changes).ok())
        .and_then(|c| c["reclassified_cis"].as_u64())
        .unwrap_or(0))
}

/// `custos bench report`: one service relying on `cis` CIs (20 applications, each on its
/// share of virtual machines), classified through an agreed SLA (C=moderate, so the
/// MODERATE baseline applies to every CI), the baseline implemented as common controls on
/// the service, 1 % of the CIs with a failed control and 0.5 % with an overdue review, and
/// eleven kept monthly reports as history. Times building the report (JSON), rendering
/// HTML, CSV and PDF.
pub async fn report(store: &dyn Store, cis: usize) -> anyhow::Result<()> {
    use custos_core::measures::{ImplStatus, Implementation};
    use custos_core::sla::Side;
    use custos_core::sla_report::Period;
    use custos_core::time::Date;
    let actor = Actor::System("bench");
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    let api = |e: custos_core::Error| anyhow!("{e}");
    println!("backend: {}; service scope: {cis} CIs", store.backend());
    crate::demo::load_nist(store, &actor).await?;
    let mk = |t: &str, k: String| {
        CiInput::new(
            t,
            &k,
            Some(&k),
            Lifecycle::Active,
            serde_json::json!({"env": "prod"}),
        )
        .unwrap()
    };
    let apps = 20.min(cis.saturating_sub(1)).max(1);
    let mut rows = vec![mk("business_service", "rb-svc".into())];
    let mut edges = vec![];
    for a in 0..apps {
        rows.push(mk("application", format!("rb-app-{a}")));
        edges.push((
            "rb-svc".to_string(),
            RelType::DependsOn,
            format!("rb-app-{a}"),
        ));
    }
    for v in 0..cis.saturating_sub(apps + 1) {
        rows.push(mk("virtual_machine", format!("rb-vm-{v}")));
        edges.push((
            format!("rb-app-{}", v % apps),
            RelType::RunsOn,
            format!("rb-vm-{v}"),
        ));
    }
    for chunk in rows.chunks(5000) {
        store
            .bulk_upsert_cis(&actor, chunk.to_vec())
            .await
            .map_err(e)?;
    }
    for chunk in edges.chunks(5000) {
        store
            .bulk_add_relationships(&actor, chunk.to_vec())
            .await
            .map_err(e)?;
    }
    store.analyze().await.map_err(e)?;
    let svc = store.ci_by_key("rb-svc").await.map_err(e)?.ci.id;
    let hours =
        custos_core::calendar::ServiceHours::office_hours("Europe/Amsterdam", "07:00", "19:00");
    let service = custos_core::service::ServiceInput::new(
        "Bench service",
        None,
        hours,
        vec![],
        Default::default(),
    )?;
    store.put_service(&actor, svc, service).await.map_err(e)?;
    let customer = custos_core::service::CustomerInput::new(
        "Bench customer",
        custos_core::service::CustomerKind::External,
        None,
        "",
        "",
        vec![],
    )?;
    let customer = store.create_customer(&actor, customer).await.map_err(e)?;
    let terms: custos_core::sla::SlaTerms = serde_json::from_value(serde_json::json!({
        "name": "Bench SLA", "customer_id": customer.id, "service_id": svc,
        "valid_from": "2025-01-01", "valid_to": "2030-12-31",
        "targets": custos_core::service::Targets::default(),
        "security": {"classification": {"confidentiality": "moderate", "integrity": "moderate", "availability": "low"}, "reporting": "monthly"},
        "kpis": [{"metric": "control_coverage", "target": 95, "comparison": "at_least"},
                 {"metric": "overdue_control_reviews", "target": 0, "comparison": "at_most"},
                 {"metric": "security_incidents", "target": 0, "comparison": "at_most"}]
    }))?;
    let sla = store
        .create_sla(&actor, terms.validate()?)
        .await
        .map_err(e)?;
    let today = Date::of(custos_core::Timestamp::now());
    let hash = custos_core::secret::PasswordHash::create("bench-password-2026");
    let mut signers = vec![];
    for (email, role) in [
        (
            "bench-rep@example.org",
            custos_core::account::Role::CustomerRepresentative,
        ),
        (
            "bench-owner@example.org",
            custos_core::account::Role::ServiceOwner,
        ),
    ] {
        let u = store
            .create_user(
                &actor,
                custos_core::account::NewUser {
                    email: custos_core::account::Email::parse(email)?,
                    display_name: email.into(),
                    roles: custos_core::account::Roles::new(vec![role])?,
                    department_id: None,
                    password_hash: hash.clone(),
                },
            )
            .await
            .map_err(e)?;
        signers.push(Actor::User {
            id: u.id,
            email: u.email,
        });
    }
    store
        .agree_sla(&signers[0], sla.id, Side::Customer, &today)
        .await
        .map_err(e)?;
    let sla = store
        .agree_sla(&signers[1], sla.id, Side::Owner, &today)
        .await
        .map_err(e)?;
    // The MODERATE baseline as common controls of the service.
    let moderate = custos_server::measures::level_baselines(store)
        .await
        .map_err(api)?[1]
        .0;
    let baseline = store
        .gap_data_many(&[(svc, moderate)])
        .await
        .map_err(e)?
        .remove(0)
        .baseline
        .to_vec();
    let now = custos_core::Timestamp::now();
    let imp =
        |ci, control, status, review: Option<custos_core::Timestamp>, inheritable| Implementation {
            ci_id: ci,
            control_id: control,
            status,
            justification: String::new(),
            evidence: "bench".into(),
            links: vec![],
            owner_id: None,
            last_verified_at: None,
            next_review_at: review,
            inheritable,
            updated_at: now,
        };
    for c in &baseline {
        store
            .put_implementation(
                &actor,
                imp(
                    svc,
                    *c,
                    ImplStatus::Verified,
                    Some(now.plus_secs(86_400 * 180)),
                    true,
                ),
            )
            .await
            .map_err(e)?;
    }
    let mut rng = Rng(0x5eed_cafe);
    let vms = cis.saturating_sub(apps + 1);
    for i in 0..vms / 100 {
        let ci = store
            .ci_by_key(&format!("rb-vm-{}", i * 100))
            .await
            .map_err(e)?
            .ci
            .id;
        let c = baseline[rng.below(baseline.len())];
        store
            .put_implementation(&actor, imp(ci, c, ImplStatus::Failed, None, false))
            .await
            .map_err(e)?;
    }
    for i in 0..vms / 200 {
        let ci = store
            .ci_by_key(&format!("rb-vm-{}", i * 200 + 1))
            .await
            .map_err(e)?
            .ci
            .id;
        let c = baseline[rng.below(baseline.len())];
        store
            .put_implementation(
                &actor,
                imp(
                    ci,
                    c,
                    ImplStatus::Implemented,
                    Some(now.minus_secs(86_400 * 10)),
                    false,
                ),
            )
            .await
            .map_err(e)?;
    }
    // Eleven months of kept reports before the measured period.
    let period = Period::last_complete(&today, false);
    let mut history = period.clone();
    for _ in 0..11 {
        history = history.previous();
        custos_server::service_levels::keep_report(store, &actor, &sla, &history, now)
            .await
            .map_err(api)?;
    }

    let (mut build, mut html, mut csv, mut pdf) = (vec![], vec![], vec![], vec![]);
    let mut report = None;
    for _ in 0..5 {
        let t = Instant::now();
        let r = custos_server::service_levels::build_report(
            store,
            &sla,
            &period,
            custos_core::Timestamp::now(),
        )
        .await
        .map_err(api)?;
        let _json = serde_json::to_string(&r)?;
        build.push(t.elapsed());
        let t = Instant::now();
        let _ = custos_report::to_html(&r, "");
        html.push(t.elapsed());
        let t = Instant::now();
        let _ = custos_report::to_csv(&r);
        csv.push(t.elapsed());
        report = Some(r);
    }
    let r = report.ok_or_else(|| anyhow!("no report"))?;
    let mut pages = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let bytes = custos_report::to_pdf(&r, "").map_err(|e| anyhow!("{e}"))?;
        pdf.push(t.elapsed());
        pages = bytes
            .windows(b"/Type /Page\n".len())
            .filter(|w| *w == b"/Type /Page\n")
            .count();
        if pages == 0 {
            pages = bytes.len() / 1024;
        }
    }
    println!(
        "report {period}: {} CIs, {} required implementations, {} exceptions, {} actions, coverage {} %",
        r.coverage.cis,
        r.coverage.required,
        r.exceptions.len(),
        r.actions.len(),
        r.coverage.coverage_pct
    );
    println!(
        "build + JSON (5 runs): p50 {}, worst {}",
        ms(pct(build.clone(), 0.5)),
        ms(pct(build, 1.0))
    );
    println!("HTML render (5 runs): p50 {}", ms(pct(html, 0.5)));
    println!("CSV render (5 runs): p50 {}", ms(pct(csv, 0.5)));
    println!(
        "PDF render (3 runs): p50 {}, worst {} ({pages} page markers or KiB)",
        ms(pct(pdf.clone(), 0.5)),
        ms(pct(pdf, 1.0))
    );
    println!("peak RSS of this process: {}", peak_rss_mib());
    Ok(())
}
