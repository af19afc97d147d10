//! The report as PDF, typeset by typst used as a library.
//!
//! Typst sees a small virtual file system: `/main.typ`, the static template compiled into
//! the crate; `/data.json`, the display model as JSON; and `/chart-N.svg`, the trend charts
//! from [`crate::chart_svg`]. The template reads the data with `json(..)`, so report text
//! is only ever a string value to typst and never typst markup. No package is fetched and
//! no file is read from disk: anything else the template asks for is "not found".
//!
//! Fonts (typst's bundled Libertinus Serif, New Computer Modern, DejaVu Sans Mono) are
//! parsed once per process, as is the standard library.

use crate::ReportError;
use crate::view::{self, View};
use custos_core::sla_report::SlaReport;
use custos_core::time::{Date, Timestamp};
use std::collections::HashMap;
use std::sync::LazyLock;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// The layout; it reads everything it shows from `/data.json`.
const TEMPLATE: &str = include_str!("../typst/report.typ");

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid absolute virtual path");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

static MAIN: LazyLock<Source> =
    LazyLock::new(|| Source::new(file_id("/main.typ"), TEMPLATE.into()));

/// One report's world: the template plus the report's virtual files.
struct ReportWorld {
    files: HashMap<FileId, Bytes>,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        MAIN.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == MAIN.id() {
            Ok(MAIN.clone())
        } else if self.files.contains_key(&id) {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == MAIN.id() {
            return Ok(Bytes::from_string(TEMPLATE));
        }
        self.files.get(&id).cloned().ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    /// The template shows the report's own dates, never today's.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

/// Typst's diagnostics as one line each: message, then hints.
fn flatten(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let mut line = d.message.to_string();
            for h in &d.hints {
                line.push_str("; hint: ");
                line.push_str(&h.v);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The generation time as the PDF's creation date.
fn pdf_timestamp(t: Timestamp) -> Option<typst_pdf::Timestamp> {
    let date = Date::of(t);
    let d = date.as_str();
    let secs_of_day = t.secs().rem_euclid(86_400);
    let dt = Datetime::from_ymd_hms(
        d[0..4].parse().ok()?,
        d[5..7].parse().ok()?,
        d[8..10].parse().ok()?,
        (secs_of_day / 3600) as u8,
        (secs_of_day / 60 % 60) as u8,
        (secs_of_day % 60) as u8,
    )?;
    Some(typst_pdf::Timestamp::new_utc(dt))
}

fn world(v: &View) -> Result<ReportWorld, ReportError> {
    let mut files = HashMap::new();
    files.insert(file_id("/data.json"), Bytes::new(serde_json::to_vec(v)?));
    for c in &v.charts {
        files.insert(file_id(&c.file), Bytes::from_string(c.svg.clone()));
    }
    Ok(ReportWorld { files })
}

/// The report as a PDF (A4): the same sections as [`crate::to_html`] with the KPI trend
/// charts, tagged for accessibility, with clickable links to `base_url` + record path.
pub fn to_pdf(r: &SlaReport, base_url: &str) -> Result<Vec<u8>, ReportError> {
    let v = view::build(r, base_url);
    let world = world(&v)?;
    let doc = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| ReportError::Typeset(flatten(&e)));
    // Forget cached layout results that have not been used for a while, so a long-running
    // server does not keep every report it ever rendered.
    typst::comemo::evict(10);
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!("custos-sla-report-{}-{}", r.sla_id, r.period)),
        timestamp: pdf_timestamp(r.generated_at),
        ..Default::default()
    };
    typst_pdf::pdf(&doc?, &options).map_err(|e| ReportError::Export(flatten(&e)))
}
