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
pub async fn run(store: &dyn Store, cis: usize, rels: usize) -> anyhow::Result<()> {
    let actor = Actor::System("bench");
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    println!(
        "backend: {}; CIs: {cis}; relationships: ~{rels}",
        store.backend()
    );
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
    let mut full = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        store.recompute_classification().await.map_err(e)?;
        full.push(t.elapsed());
    }
    println!(
        "full re-classification (3 runs): best {}, worst {}",
        ms(pct(full.clone(), 0.0)),
        ms(pct(full, 1.0))
    );

    let mut imp = vec![];
    let mut reached = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let r =
            custos_core::cmdb::impact(svc, Direction::Downstream, 10, 100_000, |ids| async move {
                store.edges_touching(&ids).await
            })
            .await
            .map_err(e)?;
        imp.push(t.elapsed());
        reached = r.len();
    }
    println!(
        "impact analysis of the bench service (downstream, {reached} CIs reached, 50 runs): p50 {}, p99 {}",
        ms(pct(imp.clone(), 0.5)),
        ms(pct(imp, 0.99))
    );

    // One relationship change: link the service to one more database and remove it again;
    // each write re-propagates what changed.
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
    println!(
        "one relationship change re-propagated (20 runs): add p50 {}, remove p50 {}",
        ms(pct(add, 0.5)),
        ms(pct(del, 0.5))
    );

    let mut gap = vec![];
    let mut required = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = custos_server::api::measures::gap_report(store, "service", Some(svc))
            .await
            .map_err(|e| anyhow!("{}", e.problem().detail))?;
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
