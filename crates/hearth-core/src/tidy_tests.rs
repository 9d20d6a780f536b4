//! Tidy checks of the workspace's shape, run by `cargo test`: the direction of imports inside
//! `hearth-core` (model ← policy ← operations), the renderer as a leaf, and the codemap in
//! `docs/architecture.md` naming only files that exist.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// What the nouns may use: no operation module, nothing that runs a query.
const MODEL_MAY_IMPORT: &[&str] = &["model", "ids", "error", "clock", "db::schema", "text_enum"];
/// What the policy may use: the nouns and the plain values beside them.
const POLICY_MAY_IMPORT: &[&str] = &["policy", "model", "ids", "error", "clock"];

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The library files of a folder and its subfolders, without unit-test files (tests may use
/// anything).
fn library_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{} is readable: {e}", folder.display()))
        {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && path.file_name().is_some_and(|name| name != "tests.rs")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "{} has Rust files", dir.display());
    files
}

/// Every `crate::…` path a source names, as its first one or two segments (`db::schema`,
/// `forum`), including each item of a `crate::{a, b::c}` group.
fn crate_paths(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_word = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_word {
            continue; // `hearth_crate::` or the like, not this crate
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(head_of(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            found.insert(head_of(rest));
        }
    }
    found.remove("");
    found
}

/// The module a path starts with: `db::schema` for the schema, otherwise the first segment.
fn head_of(path: &str) -> String {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let first = ident(path);
    let after = &path.trim_start()[first.len()..];
    match after.strip_prefix("::") {
        Some(next) if first == "db" && ident(next) == "schema" => "db::schema".to_owned(),
        _ => first,
    }
}

/// The source without its comments (doc links name modules without importing them).
fn code_of(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The imports of a folder's library files that are not on its list.
fn forbidden_imports(dir: &str, allowed: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    for file in library_files(&core_src().join(dir)) {
        let source = fs::read_to_string(&file).unwrap();
        let code = code_of(&source);
        for path in crate_paths(&code) {
            if !allowed.contains(&path.as_str()) && path != "self" {
                wrong.push(format!("{} uses crate::{path}", file.display()));
            }
        }
        // A folder's files reach each other with `super::`; `super::super::` leaves the folder.
        if code.contains("super::super") {
            wrong.push(format!(
                "{} reaches out of its folder with super::super",
                file.display()
            ));
        }
    }
    wrong
}

#[test]
fn the_checker_reads_every_form_of_import() {
    let source = "use crate::db::schema::posts;\nuse crate::{clock, forum::posts::{self, X}};\n\
                  fn f() { crate::safety::gate::run(); }\nuse hearth_crate::nothing;\n\
                  /// See [`crate::moderation`].";
    let found: Vec<String> = crate_paths(&code_of(source)).into_iter().collect();
    assert_eq!(found, ["clock", "db::schema", "forum", "safety"]);
    assert!(forbidden_imports("model", &[])
        .iter()
        .any(|w| w.contains("crate::ids")));
}

#[test]
fn the_model_imports_no_operation_module() {
    let wrong = forbidden_imports("model", MODEL_MAY_IMPORT);
    assert!(
        wrong.is_empty(),
        "model/ must hold nouns only:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_policy_depends_on_the_model_only() {
    let wrong = forbidden_imports("policy", POLICY_MAY_IMPORT);
    assert!(
        wrong.is_empty(),
        "policy/ must not call operations:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_renderer_is_a_leaf_and_the_core_knows_no_web() {
    let root = workspace_root();
    let markdown = fs::read_to_string(root.join("crates/hearth-markdown/Cargo.toml")).unwrap();
    let dependencies = markdown
        .split("[dependencies]")
        .nth(1)
        .expect("hearth-markdown has dependencies");
    let dependencies = dependencies.split("\n[").next().unwrap_or_default();
    assert!(
        !dependencies.contains("hearth"),
        "hearth-markdown depends on no workspace crate:\n{dependencies}"
    );
    let core = fs::read_to_string(root.join("crates/hearth-core/Cargo.toml")).unwrap();
    for web_crate in ["actix", "tera", "cookie"] {
        assert!(
            !core.contains(web_crate),
            "hearth-core depends on {web_crate}"
        );
    }
}

/// Paths the codemap names: anything in backticks that looks like a file or folder (has a `/`
/// or a file's extension), with the folder of the section it is named in (`### \`crates/…\``).
fn named_paths(doc: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut named = Vec::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            section = heading.split('`').next().unwrap_or_default().to_owned();
        } else if line.starts_with("## ") {
            section.clear();
        }
        for quoted in line.split('`').skip(1).step_by(2) {
            let looks_like_a_file = quoted.contains('/')
                || [".rs", ".toml", ".md", ".txt", ".sh", ".mjs"]
                    .iter()
                    .any(|ext| quoted.ends_with(ext));
            let is_something_else = quoted.contains([' ', '{', '*'])
                || quoted.contains("://")
                || quoted.contains("::")
                || quoted.starts_with('/');
            if looks_like_a_file && !is_something_else {
                named.push((section.clone(), quoted.to_owned()));
            }
        }
    }
    named
}

/// A name is found from the repository root, or inside its section's crate (or that crate's
/// `src/`); `../shared/…` is beside the repository.
fn exists(section: &str, name: &str) -> bool {
    let root = workspace_root();
    let name = name.trim_end_matches('/');
    let mut bases = vec![root.clone()];
    if !section.is_empty() {
        bases.push(root.join(section));
        bases.push(root.join(section).join("src"));
    }
    bases.iter().any(|base| base.join(name).exists())
}

#[test]
fn every_path_the_architecture_names_exists() {
    let doc = fs::read_to_string(workspace_root().join("docs/architecture.md")).unwrap();
    let named = named_paths(&doc);
    assert!(named.len() > 40, "the codemap names files: {named:?}");
    let missing: Vec<String> = named
        .iter()
        .filter(|(section, name)| !exists(section, name))
        .map(|(section, name)| format!("{name} (in {section:?})"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md names files that do not exist: {missing:?}"
    );
}
