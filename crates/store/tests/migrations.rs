//! Both backends number their migrations alike: the same numbers and names, in order, so a
//! schema change is never made on one backend and forgotten on the other.

use std::path::Path;

fn names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = names("sqlite");
    let postgres = names("postgres");
    assert!(!sqlite.is_empty());
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|n| !b.contains(n)).cloned().collect()
    };
    assert_eq!(
        (only(&sqlite, &postgres), only(&postgres, &sqlite)),
        (vec![], vec![]),
        "migrations only on SQLite, only on PostgreSQL"
    );
}

#[test]
fn migrations_are_numbered_without_gaps() {
    for (i, name) in names("sqlite").iter().enumerate() {
        let number: usize = name[..4]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: no number"));
        assert_eq!(number, i + 1, "{name}");
        assert_eq!(&name[4..5], "_", "{name}");
    }
}
