//! Renders a hand-built SLA report in every format and checks what a reader (or a
//! spreadsheet, or an XML parser) gets.

mod fixture;

use custos_report::{chart_svg, html_fragment, to_csv, to_html};
use fixture::{FORMULA, HOSTILE, report};
use std::collections::HashMap;

const BASE: &str = "https://custos.example.org";

#[test]
fn html_is_a_standalone_accessible_document_with_every_section() {
    let r = report();
    let html = to_html(&r, BASE);
    assert!(html.starts_with("<!doctype html>"));
    for needle in [
        r#"<html lang="en">"#,
        r#"<meta charset="utf-8">"#,
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#,
        "Payroll SLA 2026: SLA report 2026-10",
        "<dd>Finance</dd>",
        "<dd>Payroll</dd>",
        "2026-10 (2026-10-01 to 2026-10-31)",
        "2026-11-01 08:00 UTC",
        ">Summary</h2>",
        ">Service targets</h2>",
        ">Key performance indicators</h2>",
        ">Control coverage</h2>",
        ">Exception report</h2>",
        ">Planned security actions</h2>",
        ">KPI trends</h2>",
        "<caption",
        r#"<th scope="col">"#,
        r#"<th scope="row">"#,
        r#"class="table-wrap""#,
        "Failed control",
        "Uncovered requirement",
        // Outcomes in words, not colour only.
        ">No data</span>",
        "Missed</span>",
        "Met</span>",
        // Links go to the web UI.
        &format!(r#"<a href="{BASE}/cmdb/{}/measures">"#, r.service.id),
        "<svg",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    assert_eq!(html.matches("<style>").count(), 1);
    for banned in ["<script", "<link", "@import", "url(", "src=\"http"] {
        assert!(!html.contains(banned), "found {banned:?}");
    }
}

#[test]
fn html_escapes_hostile_text_and_drops_foreign_links() {
    let mut r = report();
    r.sla_name = HOSTILE.into();
    r.customer.name = HOSTILE.into();
    r.trends[0].label = HOSTILE.into();
    let html = to_html(&r, BASE);
    assert!(!html.contains("<script>alert(1)"), "script tag not escaped");
    assert!(
        !html.contains(r#""onmouseover="#),
        "attribute break-out not escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !html.contains("javascript:"),
        "a non-path link became an href"
    );
    let frag = html_fragment(&r, BASE);
    assert!(!frag.contains("<script>alert(1)"));
    assert!(!frag.contains(r#""onmouseover="#));
}

#[test]
fn fragment_is_the_body_only() {
    let r = report();
    let frag = html_fragment(&r, BASE);
    for banned in ["<html", "<head>", "<style", "<body", "<main", "<!doctype"] {
        assert!(
            !frag.to_lowercase().contains(banned),
            "fragment has {banned}"
        );
    }
    assert!(frag.contains(r#"<article class="report""#));
    assert!(frag.contains("<h1"));
    // The standalone page wraps exactly this fragment.
    assert!(to_html(&r, BASE).contains(frag.trim()));
}

#[test]
fn csv_round_trips_with_one_row_per_item_and_no_formulas() {
    let r = report();
    let text = to_csv(&r);
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        custos_report::CSV_COLUMNS.to_vec()
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let mut per_section: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        assert_eq!(row.len(), 8);
        *per_section.entry(row[0].to_string()).or_default() += 1;
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "cell a spreadsheet would evaluate: {cell:?}"
            );
        }
    }
    let expect = [
        ("target", 3),
        ("kpi", 3),
        ("coverage", 8),
        ("exception", 4),
        ("action", 2),
        ("trend", 12),
    ];
    for (section, n) in expect {
        assert_eq!(per_section.get(section), Some(&n), "section {section}");
    }
    assert_eq!(per_section.len(), expect.len());

    let formula_title = rows
        .iter()
        .find(|r| &r[0] == "action" && r[2].contains("HYPERLINK"))
        .unwrap();
    assert_eq!(&formula_title[2], format!("'{FORMULA}"));
    let hostile = rows
        .iter()
        .find(|r| &r[0] == "exception" && r[2].starts_with("Hostile"))
        .unwrap();
    assert!(
        hostile[2].contains(HOSTILE),
        "CSV keeps text as it is: {:?}",
        &hostile[2]
    );
    let no_data = rows
        .iter()
        .find(|r| &r[0] == "trend" && &r[6] == "2026-03")
        .unwrap();
    assert_eq!(&no_data[4], "", "no data is empty, never zero");
    let kpi = rows.iter().find(|r| &r[1] == "security_incidents").unwrap();
    assert_eq!((&kpi[4], &kpi[5]), ("", "no_data"));
}

#[test]
fn chart_is_well_formed_accessible_svg() {
    let trend = fixture::coverage_trend();
    let svg = chart_svg(&trend);
    let doc = roxmltree::Document::parse(&svg).expect("chart is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    for a in ["width", "height", "viewBox", "aria-labelledby"] {
        assert!(root.attribute(a).is_some(), "svg lacks {a}");
    }
    let title_id = root.attribute("aria-labelledby").unwrap();
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .expect("title");
    assert_eq!(title.attribute("id"), Some(title_id));
    assert_eq!(title.text(), Some("Control coverage (%)"));
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .expect("desc")
        .text()
        .unwrap();
    assert!(desc.contains("from 2025-11 to 2026-10"), "{desc}");
    assert!(desc.contains("2026-03 no data"), "{desc}");
    assert!(desc.contains("2026-10 87.5 % (below target)"), "{desc}");
    assert!(
        desc.contains("4 at or above target, 7 below, 1 without data"),
        "{desc}"
    );
    // Twelve period ticks, a dashed target line, eleven points and one "no data" mark.
    let texts: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.has_tag_name("text").then(|| n.text()).flatten())
        .collect();
    for m in [
        "Nov", "Dec", "Jan", "Oct", "2025", "2026", "no data", "87.5",
    ] {
        assert!(texts.contains(&m), "no {m:?} label in {texts:?}");
    }
    let points = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("fill") == Some("#1f4fd1"));
    assert_eq!(points.count(), 1 + 11, "legend point plus one per value");
    let polylines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert_eq!(polylines, 2, "the gap splits the line in two");
    assert!(
        doc.descendants()
            .any(|n| n.attribute("stroke-dasharray").is_some())
    );
    for banned in ["<script", "href", "@import", "<style"] {
        assert!(!svg.contains(banned));
    }
}

#[test]
fn chart_of_hostile_or_empty_trend_stays_valid() {
    let mut t = fixture::coverage_trend();
    t.label = HOSTILE.into();
    roxmltree::Document::parse(&chart_svg(&t)).expect("escaped");
    t.points.clear();
    let svg = chart_svg(&t);
    roxmltree::Document::parse(&svg).expect("empty chart");
    assert!(svg.contains("No periods to show yet"));
    t.points = vec![(
        t.points
            .first()
            .map(|p| p.0.clone())
            .unwrap_or(custos_core::sla_report::Period::parse("2026-01").unwrap()),
        Some(5.0),
    )];
    t.target = 5.0;
    roxmltree::Document::parse(&chart_svg(&t)).expect("single point equal to target");
}

#[cfg(feature = "pdf")]
mod pdf {
    use super::fixture::{self, HOSTILE, TYPST_HOSTILE, report};
    use custos_report::to_pdf;
    use std::path::Path;
    use std::process::Command;
    use std::time::Instant;

    fn on_path(tool: &str) -> bool {
        Command::new(tool).arg("-v").output().is_ok()
    }

    /// The PDF's text via poppler's `pdftotext`, whitespace collapsed; None without it.
    fn text_of(pdf: &[u8], name: &str) -> Option<String> {
        if !on_path("pdftotext") {
            println!("note: pdftotext not on PATH (install poppler-utils); text not checked");
            return None;
        }
        let path =
            std::env::temp_dir().join(format!("custos-report-{name}-{}.pdf", std::process::id()));
        std::fs::write(&path, pdf).unwrap();
        let out = Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(out.status.success(), "pdftotext failed");
        Some(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// Page 1 as PNG via poppler's `pdftoppm`; false without it.
    fn page_one_png(pdf: &[u8], png: &Path) -> bool {
        if !on_path("pdftoppm") {
            println!("note: pdftoppm not on PATH (install poppler-utils); page not rendered");
            return false;
        }
        let pdf_path = png.with_extension("pdf");
        std::fs::write(&pdf_path, pdf).unwrap();
        let stem = png.with_extension("");
        let st = Command::new("pdftoppm")
            .args(["-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf_path)
            .arg(&stem)
            .status()
            .unwrap();
        assert!(st.success(), "pdftoppm failed");
        true
    }

    #[test]
    fn pdf_has_every_section_and_renders() {
        let pdf = to_pdf(&report(), "https://custos.example.org").expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        if let Some(text) = text_of(&pdf, "sections") {
            for needle in [
                "Payroll SLA 2026: SLA report 2026-10",
                "Finance",
                "Summary",
                "Service targets",
                "Key performance indicators",
                "Control coverage",
                "Exception report",
                "Planned security actions",
                "KPI trends",
                "Failed control",
                "AC-2 Account Management on payroll-db",
                "Uncovered requirement",
                "No data",
                "Missed",
                "Dana Okafor",
            ] {
                assert!(text.contains(needle), "PDF text lacks {needle:?}: {text}");
            }
        }
        let png = std::env::temp_dir().join("custos-report-page1.png");
        if page_one_png(&pdf, &png) {
            let len = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
            assert!(len > 10_000, "page 1 PNG is empty ({len} bytes)");
            println!("page 1 written to {}", png.display());
        }
    }

    #[test]
    fn typst_markup_in_report_text_stays_literal() {
        let mut r = report();
        r.sla_name = TYPST_HOSTILE.into();
        r.customer.name = HOSTILE.into();
        r.service.name = r#"Payroll") #let x = 1 #x"#.into();
        r.targets[0].achieved = Some(r#"]; #import "/etc/passwd""#.into());
        let pdf = to_pdf(&r, "https://custos.example.org").expect("hostile text must still render");
        assert!(pdf.starts_with(b"%PDF-"));
        if let Some(text) = text_of(&pdf, "hostile") {
            for needle in [
                TYPST_HOSTILE,
                HOSTILE.trim(),
                r#"Payroll") #let x = 1 #x"#,
                r#"]; #import "/etc/passwd""#,
            ] {
                assert!(text.contains(needle), "PDF text lacks {needle:?}: {text}");
            }
        }
    }

    #[test]
    fn two_hundred_exceptions_break_across_pages_quickly() {
        let r = fixture::big_report(200);
        let _ = to_pdf(&report(), "").expect("warm-up");
        let start = Instant::now();
        let pdf = to_pdf(&r, "https://custos.example.org").expect("pdf");
        let took = start.elapsed();
        println!(
            "PDF with {} exceptions: {} bytes in {took:?}",
            r.exceptions.len(),
            pdf.len()
        );
        if let Some(text) = text_of(&pdf, "big") {
            assert!(text.contains("Control number 199 on payroll-app-03"));
            assert!(text.contains("Page 1 of"));
        }
        // Unoptimised test builds are far slower than release; this only catches a blow-up.
        assert!(took.as_secs() < 60, "{took:?}");
    }
}
