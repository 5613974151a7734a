//! The layers of DESIGN.md §2 hold: `web/` and `api/` reach the database only through `service/`
//! (no `store` paths, no SQL, no calls on the `Db` handle), and neither imports the other (what
//! both need lives in `app.rs` or `service/`). The sources are read as text, so a regression fails
//! here naming every offending line.

use std::path::{Path, PathBuf};

/// What a handler layer must not name, and why.
struct Rule {
    /// A path segment that must not appear in a path (`store` matches `store::x` and
    /// `use crate::{store, …}`).
    module: &'static str,
    why: &'static str,
}

const NO_STORE: Rule =
    Rule { module: "store", why: "reaches into store/; call a service function (row types: its re-export)" };
const NO_SQLX: Rule = Rule { module: "sqlx", why: "runs SQL; SQL lives in store/ behind a service" };

/// Offending lines of one source text, as `line: text — why`. A `use` statement is checked whole
/// (it may span lines), any other line on its own.
fn offences(source: &str, rules: &[Rule]) -> Vec<String> {
    let mut found = Vec::new();
    let mut statement: Option<(usize, String)> = None;
    for (i, raw) in source.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("//") {
            continue;
        }
        let code = line.split(" //").next().unwrap_or(line);
        let starts_use = ["use ", "pub use ", "pub(crate) use "].iter().any(|p| code.starts_with(p));
        if statement.is_some() || starts_use {
            let (first, text) = statement.get_or_insert_with(|| (i + 1, String::new()));
            text.push_str(code);
            if code.ends_with(';') {
                let (first, text) = (*first, std::mem::take(text));
                statement = None;
                // In a `use`, the module may close a path (`use crate::{service, store};`).
                for rule in rules {
                    if segments(&text).any(|(seg, _)| seg == rule.module) {
                        found.push(format!("{first}: {text} — {}", rule.why));
                    }
                }
            }
            continue;
        }
        for rule in rules {
            if segments(code).any(|(seg, followed_by_path)| seg == rule.module && followed_by_path) {
                found.push(format!("{}: {} — {}", i + 1, line, rule.why));
            }
        }
        if let Some(method) = db_call(code) {
            found.push(format!("{}: {} — calls `Db::{method}`; go through a service function", i + 1, line));
        }
        if code.contains("on_db!") {
            found.push(format!("{}: {} — reads the database; go through a service function", i + 1, line));
        }
    }
    found
}

/// Identifier-like words of a line, each with whether `::` follows it.
fn segments(code: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in code.bytes().chain(std::iter::once(b' ')).enumerate() {
        let ident = b.is_ascii_alphanumeric() || b == b'_';
        match (ident, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((&code[s..i], code[i..].starts_with("::")));
                start = None;
            }
            _ => {}
        }
    }
    out.into_iter()
}

/// `…db.method(` other than `clone`: a call on the database handle.
fn db_call(code: &str) -> Option<String> {
    let mut rest = code;
    while let Some(at) = rest.find("db.") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 3..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && after[name.len()..].starts_with('(')
            && name != "clone"
        {
            return Some(name);
        }
        rest = after;
    }
    None
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn check_layer(layer: &str, rules: &[Rule]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&root.join("src").join(layer));
    assert!(files.len() > 3, "src/{layer} should hold the layer's modules");
    let mut all = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        all.extend(offences(&source, rules).into_iter().map(|o| format!("{name}:{o}")));
    }
    all
}

#[test]
fn pages_reach_the_database_only_through_services_and_never_import_the_api() {
    let found = check_layer(
        "web",
        &[NO_STORE, NO_SQLX, Rule { module: "api", why: "imports the API; share through app.rs or service/" }],
    );
    assert!(found.is_empty(), "web/ breaks the layers (DESIGN.md §2):\n{}", found.join("\n"));
}

#[test]
fn the_api_reaches_the_database_only_through_services_and_never_imports_the_pages() {
    let found = check_layer(
        "api",
        &[NO_STORE, NO_SQLX, Rule { module: "web", why: "imports the pages; share through app.rs or service/" }],
    );
    assert!(found.is_empty(), "api/ breaks the layers (DESIGN.md §2):\n{}", found.join("\n"));
}

/// The scan itself finds what it is meant to find (so a clean result means something).
#[test]
fn the_scan_catches_each_kind_of_breach() {
    let rules = || [NO_STORE, NO_SQLX, Rule { module: "api", why: "api" }];
    let bad = [
        "use crate::store::orders::OrderRow;",
        "use crate::{service, store};",
        "use super::super::store::Db;",
        "    let rows = crate::store::orders::lines(&state.db, &id).await?;",
        "    let rep = user_store::get(&state.db, id).await?; let x = store::users::get(db).await;",
        "use crate::api::ApiError;",
        "    sqlx::query(\"DELETE FROM orders\")",
        "    state.db.write(input, |tx, i| Box::pin(async move { Ok(()) })).await?;",
        "    let rows = portico::on_db!(db, |c| x);",
    ];
    for line in bad {
        assert_eq!(offences(line, &rules()).len(), 1, "not caught: {line}");
    }
    for multi_line_use in
        ["use crate::{\n    service::orders,\n    store::Db,\n};", "use crate::{\n    service,\n    store,\n};"]
    {
        assert_eq!(offences(multi_line_use, &rules()).len(), 1, "not caught: {multi_line_use}");
    }
    let fine = [
        "use crate::service::orders::{OrderRow, OrderFilter};",
        "// the store is reached through crate::store only from services",
        "use crate::service::api_tokens::ApiTokenRow;",
        "    let db = state.db.clone();",
        "    let restore = restore_point(); let api_tokens = api_tokens::list(&state.db, &actor).await?;",
        "    .route(\"/api/v1/orders\", get(list))",
    ];
    for line in fine {
        assert!(offences(line, &rules()).is_empty(), "wrongly caught: {line}: {:?}", offences(line, &rules()));
    }
}
