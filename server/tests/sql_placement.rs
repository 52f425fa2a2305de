//! SQL lives only in the data-access modules (docs/architecture.md): files under `server/src/db/`
//! and files whose name ends in `store.rs`. This walks `server/src` and names, file:line, every
//! other place that builds a query (`sqlx::query`, `query_as`, `query_scalar`, the `query!`
//! macros, `raw_sql`, or importing them) or hands an executor raw SQL (`.execute("…")`,
//! `.fetch_all("…")`, …).

use std::fs;
use std::path::{Path, PathBuf};

/// Executor methods that take SQL text directly.
const EXECUTOR_METHODS: [&str; 7] = [
    ".execute(",
    ".execute_many(",
    ".fetch(",
    ".fetch_all(",
    ".fetch_one(",
    ".fetch_optional(",
    ".fetch_many(",
];

/// Whether `relative` (a path under `server/src`, with `/` separators) may hold SQL.
fn is_data_access(relative: &str) -> bool {
    relative.starts_with("db/") || relative.ends_with("store.rs")
}

/// `text` with line comments blanked (doc comments may name `sqlx::query`), line breaks kept so
/// offsets still map to line numbers.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// (line, what) for every place in `text` that writes SQL.
fn offences(text: &str) -> Vec<(usize, String)> {
    let code = without_comments(text);
    let mut found = Vec::new();
    for needle in ["sqlx::query", "sqlx::raw_sql"] {
        for (at, _) in code.match_indices(needle) {
            found.push((line_of(&code, at), format!("`{needle}`")));
        }
    }
    // `use sqlx::{query_as, …}` and then a bare `query_as(…)`.
    for (at, _) in code.match_indices("use sqlx::") {
        let statement = code[at..].split(';').next().unwrap_or_default();
        if statement.contains("query") || statement.contains("raw_sql") {
            found.push((
                line_of(&code, at),
                "an import of sqlx's query builders".to_owned(),
            ));
        }
    }
    for method in EXECUTOR_METHODS {
        for (at, _) in code.match_indices(method) {
            let argument = code[at + method.len()..].trim_start();
            let literal = argument.starts_with('"')
                || argument.starts_with("r\"")
                || argument.starts_with("r#")
                || argument.starts_with("&format!(")
                || argument.starts_with("format!(");
            if literal {
                found.push((line_of(&code, at), format!("raw SQL given to `{method}…)`")));
            }
        }
    }
    found.sort();
    found.dedup_by_key(|(line, _)| *line);
    found
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
            .path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn sql_is_only_in_data_access_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 20,
        "found too few sources under {}",
        src.display()
    );
    let mut misplaced = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&src)
            .expect("walked under src")
            .to_string_lossy()
            .replace('\\', "/");
        if is_data_access(&relative) {
            continue;
        }
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        for (line, what) in offences(&text) {
            misplaced.push(format!("server/src/{relative}:{line}: {what}"));
        }
    }
    assert!(
        misplaced.is_empty(),
        "SQL outside the data-access modules (move it into a `*store.rs` file or `db/`):\n{}",
        misplaced.join("\n")
    );
}

#[test]
fn the_check_sees_each_form() {
    let sample = r##"
use sqlx::{query_scalar, Row};
// sqlx::query in a comment is fine
fn f() {
    sqlx::query("DELETE FROM jobs");
    let n: i64 = sqlx::query_scalar("SELECT 1");
    sqlx::query_as::<_, (i64,)>("SELECT 1");
    conn.execute("PRAGMA foreign_keys = ON");
    conn.execute(
        r#"VACUUM"#,
    );
    pool.fetch_all(&format!("SELECT {}", x));
    sqlx::raw_sql("SELECT 1");
    query.execute(&mut *tx);
}
"##;
    let lines: Vec<usize> = offences(sample).into_iter().map(|(line, _)| line).collect();
    assert_eq!(lines, [2, 5, 6, 7, 8, 9, 12, 13]);
    assert!(is_data_access("jobs/transitions_store.rs"));
    assert!(is_data_access("db/mod.rs"));
    assert!(!is_data_access("jobs/worker.rs"));
    assert!(!is_data_access("jobs/store_helpers.rs"));
}
