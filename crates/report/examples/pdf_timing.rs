//! Times PDF rendering of a report with 200 exceptions and writes every output of the
//! sample report to a folder for a look:
//! `cargo run --release -p custos-report --example pdf_timing [-- OUT_DIR]`.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| std::env::temp_dir().display().to_string());
    let base = "https://custos.example.org";
    let first = Instant::now();
    custos_report::to_pdf(&fixture::report(), base)?;
    println!(
        "first render (fonts and library loaded): {:?}",
        first.elapsed()
    );

    let mut big = fixture::big_report(200);
    let mut times = vec![];
    let mut pdf = vec![];
    for run in 0..5 {
        // Different text every run, as in real use: typst's caches must not make it look
        // faster than it is.
        big.sla_name = format!("Payroll SLA 2026 (run {run})");
        for e in &mut big.exceptions {
            e.title = format!("{} r{run}", e.title);
        }
        let t = Instant::now();
        pdf = custos_report::to_pdf(&big, base)?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{} exceptions: {} bytes, median {:?} (min {:?}, max {:?}) over {} renders",
        big.exceptions.len(),
        pdf.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );

    let r = fixture::report();
    let dir = std::path::Path::new(&out);
    std::fs::write(
        dir.join("custos-report.pdf"),
        custos_report::to_pdf(&r, base)?,
    )?;
    std::fs::write(dir.join("custos-report-200.pdf"), &pdf)?;
    std::fs::write(
        dir.join("custos-report.html"),
        custos_report::to_html(&r, base),
    )?;
    std::fs::write(dir.join("custos-report.csv"), custos_report::to_csv(&r))?;
    std::fs::write(
        dir.join("custos-report-chart.svg"),
        custos_report::chart_svg(&r.trends[0]),
    )?;
    println!("sample outputs written to {}", dir.display());
    Ok(())
}
