//! The `custos` binary as an operator uses it.

mod common;

use common::*;
use std::process::Command;

fn create_user(dir: &std::path::Path, email: &str, role: &str) {
    let out = custos(
        dir,
        &["admin", "create-user", "--email", email, "--role", role],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn token(dir: &std::path::Path, email: &str) -> String {
    let out = custos(dir, &["admin", "issue-token", "--email", email], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn serve_create_user_issue_token_and_call_the_api() {
    let dir = TempDir::new("cli");
    let server = Server::start(&dir.0, "serve");
    create_user(&dir.0, "root@example.org", "admin");
    create_user(&dir.0, "agent@example.org", "agent");
    let admin = token(&dir.0, "root@example.org");
    let agent = token(&dir.0, "agent@example.org");
    assert!(admin.starts_with("cst_"));
    let c = reqwest::Client::new();
    let me: serde_json::Value = c
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "root@example.org");
    let r = c
        .get(format!("{}/api/v1/me", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .get(format!("{}/api/v1/users", server.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let status = server.terminate();
    assert!(
        status.success(),
        "graceful shutdown on SIGTERM exits 0: {status:?}"
    );
}

#[test]
fn bad_input_gets_one_line_errors_and_nonzero_exit() {
    let dir = TempDir::new("cli-bad");
    create_user(&dir.0, "ann@example.org", "agent");
    for (args, stdin, expect) in [
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "x@example.org",
                "--role",
                "root",
            ],
            format!("{PASSWORD}\n"),
            "unknown role",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "x@example.org",
                "--role",
                "agent",
            ],
            String::new(),
            "no password",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "x@example.org",
                "--role",
                "agent",
            ],
            "short\n".into(),
            "at least 12",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "ann@example.org",
                "--role",
                "agent",
            ],
            format!("{PASSWORD}\n"),
            "already exists",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "y@example.org",
                "--role",
                "agent",
                "--department",
                "Nowhere",
            ],
            format!("{PASSWORD}\n"),
            "no department",
        ),
        (
            vec!["admin", "issue-token", "--email", "nobody@example.org"],
            String::new(),
            "no user",
        ),
        (
            vec![
                "admin",
                "issue-token",
                "--email",
                "ann@example.org",
                "--expires-in-days",
                "0",
            ],
            String::new(),
            "between 1 and 3650",
        ),
        (
            vec!["report", "sla", "--sla", "nope", "--period", "2026-10"],
            String::new(),
            "--sla must be an SLA id",
        ),
        (
            vec![
                "report",
                "sla",
                "--sla",
                "01a20b58-f73a-7786-9e7f-d3f1de218807",
                "--period",
                "2026-13",
            ],
            String::new(),
            "--period must be a month",
        ),
        (
            vec![
                "report",
                "sla",
                "--sla",
                "01a20b58-f73a-7786-9e7f-d3f1de218807",
                "--period",
                "2026-10",
                "--format",
                "docx",
            ],
            String::new(),
            "--format must be html, pdf, csv or json",
        ),
        (
            vec![
                "report",
                "sla",
                "--sla",
                "01a20b58-f73a-7786-9e7f-d3f1de218807",
                "--period",
                "2026-10",
            ],
            String::new(),
            "SLA not found",
        ),
    ] {
        let out = custos(&dir.0, &args, &stdin);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(expect),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = Command::new(bin())
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("sqlite: or postgres://"));
    // A CA file for the mail relay that is not there stops the start, before it listens.
    let out = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir.0)
        .env("CUSTOS_SMTP_HOST", "mail.example.org")
        .env("CUSTOS_SMTP_FROM", "Custos <custos@example.org>")
        .env("CUSTOS_SMTP_CA_FILE", "/nonexistent/relay-ca.pem")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.trim_end().ends_with(
            "smtp_ca_file /nonexistent/relay-ca.pem: No such file or directory (os error 2)"
        ),
        "{err}"
    );
    assert!(!err.contains("listening"), "{err}");
    // Nothing already stored was lost.
    let out = custos(
        &dir.0,
        &["admin", "issue-token", "--email", "ann@example.org"],
        "",
    );
    assert!(out.status.success());
}

/// Editing or deleting an audit row behind the server's back is found and named.
#[tokio::test]
async fn audit_verify_detects_edits_and_deletions() {
    let dir = TempDir::new("cli-audit");
    for i in 0..4 {
        create_user(&dir.0, &format!("u{i}@example.org"), "agent");
    }
    let out = custos(&dir.0, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("intact: 4 entries verified"),
        "{}",
        text(&out.stdout)
    );

    let db = format!("sqlite:{}", dir.0.join("custos.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory@example.org' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    let out = custos(&dir.0, &["audit", "verify"], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("BROKEN at entry seq 2") && stdout.contains("edited"),
        "{stdout}"
    );
    sqlx::query("UPDATE audit_log SET actor = 'system:cli' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        custos(&dir.0, &["audit", "verify"], "").status.code(),
        Some(0),
        "restoring the row restores the chain"
    );

    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    let out = custos(&dir.0, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("seq 3") && text(&out.stdout).contains("missing"),
        "{}",
        text(&out.stdout)
    );

    sqlx::query("DELETE FROM audit_log WHERE seq >= 3")
        .execute(&pool)
        .await
        .unwrap();
    let out = custos(&dir.0, &["audit", "verify"], "");
    assert_eq!(
        out.status.code(),
        Some(2),
        "truncating the end is caught by the head: {}",
        text(&out.stdout)
    );
    pool.close().await;
}

#[tokio::test]
async fn demo_serves_a_seeded_organisation_with_working_logins() {
    let dir = TempDir::new("cli-demo");
    let mut server = Server::start(&dir.0, "demo");
    // The banner lists the logins on stdout.
    let mut stdout = server.child.stdout.take().unwrap();
    let mut banner = String::new();
    let mut buf = [0u8; 4096];
    while !banner.contains("Stop with Ctrl+C") {
        use std::io::Read;
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "banner ended early: {banner}");
        banner.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    for role in [
        "Administrator",
        "Security manager",
        "Agent",
        "Service owner",
        "Requester",
        "Customer representative",
        "Auditor",
    ] {
        assert!(banner.contains(role), "{role} missing from {banner}");
    }
    assert!(banner.contains(&server.base));
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = c
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = login.text().await.unwrap();
    let i = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[i..].split('"').next().unwrap();
    let r = c
        .post(format!("{}/login", server.base))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf),
            ("email", "adam.agent@demo.custos.dev"),
            ("password", "custos-demo-2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("custos_session="))
        .unwrap();
    let home = c
        .get(format!("{}/", server.base))
        .header("cookie", session.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Welcome, Adam Agent"));
    // The demo CMDB: the payroll service's confidentiality reaches the hypervisor under it.
    let cookie = session.split(';').next().unwrap();
    let list = c
        .get(format!("{}/cmdb?q=esx", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("esx-01 (hypervisor)") && list.contains("lvl-high"),
        "{list}"
    );
    assert!(banner.contains("/cmdb"));
    // The demo's measures: the payroll VM's failed backup control shows in the gap report.
    let gaps = c
        .get(format!("{}/gaps.csv", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let vm = gaps
        .lines()
        .find(|l| l.contains("\"vm-payroll-01\""))
        .expect("payroll VM in the gap report");
    assert!(
        vm.contains(",high,371,"),
        "HIGH baseline (370) + the media procedure inherited from the salary data: {vm}"
    );
    let failed: u32 = vm.split(',').nth(8).unwrap().parse().unwrap();
    assert!(failed >= 1, "{vm}");
    // Service level management: the agreed payroll SLA and its report, from the CLI too.
    let slas = c
        .get(format!("{}/slas", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(slas.contains("Payroll SLA"), "{slas}");
    let at = slas.find("href=\"/slas/").expect("a link to an SLA") + 12;
    let sla_id = &slas[at..at + 36];
    let today = custos_core::time::Date::of(custos_core::Timestamp::now());
    let period = custos_core::sla_report::Period::last_complete(&today, false).to_string();
    let pdf = dir.0.join("report.pdf");
    let out = custos(
        &dir.0,
        &[
            "report",
            "sla",
            "--sla",
            sla_id,
            "--period",
            &period,
            "--format",
            "pdf",
            "--output",
            pdf.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    // The PDF opens: poppler renders its pages (the trend chart is on one of them).
    if let Ok(r) = Command::new("pdftoppm")
        .args(["-png", "-r", "40"])
        .arg(&pdf)
        .arg(dir.0.join("page"))
        .output()
    {
        assert!(r.status.success(), "{}", text(&r.stderr));
        let pages = std::fs::read_dir(&dir.0)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("page")
            })
            .count();
        assert!(pages >= 2, "{pages} pages rendered");
    }
    // …and shows the coverage trend chart (its caption and axis are text in the PDF).
    if let Ok(r) = Command::new("pdftotext").arg(&pdf).arg("-").output() {
        let t = text(&r.stdout);
        assert!(
            t.contains("Control coverage (%): last 5 periods"),
            "no trend chart: {t}"
        );
        assert!(t.contains("Exception report") && t.contains("CP-9"), "{t}");
    }
    let out = custos(
        &dir.0,
        &[
            "report", "sla", "--sla", sla_id, "--period", &period, "--format", "csv",
        ],
        "",
    );
    let csv = text(&out.stdout);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("exception,") && l.contains("CP-9")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("trend,")),
        "kept reports make a trend: {csv}"
    );

    // Incidents and problems, through the API as each demo role sees them.
    let token = |email: &str| {
        let out = custos(
            &dir.0,
            &[
                "admin",
                "issue-token",
                "--email",
                email,
                "--name",
                "demo-test",
            ],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().last().unwrap().trim().to_string()
    };
    let api = |token: String, path: &'static str| {
        let (c, base) = (c.clone(), server.base.clone());
        async move {
            let r = c
                .get(format!("{base}/api/v1{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let sophie = token("sophie.security@demo.custos.dev");
    let leak = api(sophie.clone(), "/incidents/INC-000001").await;
    assert_eq!(leak["security"]["flagged"], true, "{leak}");
    assert!(
        leak.to_string().contains("data_leak"),
        "the SLA's criterion: {leak}"
    );
    let backup = api(sophie.clone(), "/incidents/INC-000002").await;
    assert!(
        backup.to_string().contains("CP-9"),
        "the failed control: {backup}"
    );
    let notes = api(sophie.clone(), "/incidents/INC-000001/notes").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "external" && n["status"] == "draft"),
        "an external communication awaits approval: {notes}"
    );
    let slow = api(sophie.clone(), "/incidents/INC-000003").await;
    assert_eq!(slow["links"].as_array().unwrap().len(), 1, "{slow}");
    let held = api(sophie.clone(), "/incidents?status=on_hold").await;
    assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");
    let known = api(sophie, "/known-errors").await;
    assert!(
        known.to_string().contains("HR portal session lost"),
        "{known}"
    );
    // The agent (no need-to-know) does not see the data leak; the customer's
    // representative, named in the payroll SLA as authorised personnel, does.
    let adam = api(token("adam.agent@demo.custos.dev"), "/incidents").await;
    assert!(!adam.to_string().contains("Payslips"), "{adam}");
    assert!(adam.to_string().contains("Checkout pages load slowly"));
    let carla = api(token("carla.customer@demo.custos.dev"), "/incidents").await;
    assert!(carla.to_string().contains("Payslips"), "{carla}");
}

#[test]
fn catalog_import_is_idempotent_and_applies_profiles() {
    let dir = TempDir::new("cli-catalog");
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/oscal/nist-sp800-53-rev5/"
    );
    let moderate =
        format!("{data}NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json");
    let out = custos(&dir.0, &["catalog", "import", &moderate], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("287 controls added, 0 updated, 0 unchanged"),
        "{}",
        text(&out.stdout)
    );
    let out = custos(&dir.0, &["catalog", "import", &moderate], "");
    assert!(
        text(&out.stdout).contains("0 controls added, 0 updated, 287 unchanged"),
        "{}",
        text(&out.stdout)
    );
    let out = custos(
        &dir.0,
        &[
            "catalog",
            "import",
            &format!("{data}NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"),
        ],
        "",
    );
    assert!(
        text(&out.stdout).contains(": 287 controls of catalog"),
        "{}",
        text(&out.stdout)
    );
    let out = custos(&dir.0, &["catalog", "import", "/nonexistent.json"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .last()
            .unwrap_or_default()
            .starts_with("error: cannot read"),
        "{err}"
    );
    let out = custos(&dir.0, &["catalog", "import", "Cargo.toml"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not JSON"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn cmdb_import_lists_rejected_rows_and_exports() {
    let dir = TempDir::new("cli-cmdb");
    let file = dir.0.join("cis.csv");
    let mut csv = String::from("external_key,ci_type,name\n");
    for i in 0..10 {
        csv.push_str(&format!("srv-{i},server,server {i}\n"));
    }
    csv.push_str("bad,unknown_type,x\n,server,no key\n");
    std::fs::write(&file, csv).unwrap();
    let out = custos(&dir.0, &["cmdb", "import", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(3), "rejected rows give exit 3");
    assert!(
        text(&out.stdout).contains("CIs: 10 created"),
        "{}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("line 12 (cis): unknown ci_type")
            && err.contains("line 13 (cis): external_key is required"),
        "{err}"
    );
    let out = custos(&dir.0, &["cmdb", "export", "--kind", "cis"], "");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 11);
}
