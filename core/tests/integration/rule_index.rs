//! The rule index of DOMAIN.md §10 is complete and every rule ID in it is named by a test
//! (DOMAIN.md §1.2, STYLE.md "Tests"). Also regenerates and compares docs/DOMAIN-COVERAGE.md.
//!
//! **What counts as "named by a test".** Test sources are the `.rs`, `.kt` and `.py` files
//! under `core/`, `server/`, `tests/` and `bindings/` (build output, generated bindings and
//! hidden folders skipped) that either have a folder called `tests` in their path or are
//! Python files named `test_*.py` — all of their text — plus, in any other `.rs` file, the
//! text from its first `#[cfg(test)]` to the end of the file (the project keeps unit-test
//! modules last). This file is excluded: it lists IDs as data. An ID is covered when, in test
//! source text,
//!
//! 1. outside comments, the §1.2 pattern `\b(FLD|H|S|CH|HV|MH|EQ|RK|CF|SAF|FX)(-[A-Z0-9]+)+\b` matches it
//!    exactly (longest match, so `MH-SWL-MARGIN` does not cover `MH-SWL`) — typically an
//!    assertion on an issue's or error's `rule_id`; or
//! 2. the name of a function declared there (`fn`, `fun`, `def`) contains the ID in snake case
//!    as whole `_`-separated words, again longest first (`mh_swl_margin_warns` names
//!    `MH-SWL-MARGIN`, `mh_swl_weight_above_lowest_swl_is_an_error` names `MH-SWL`).
//!
//! IDs whose mechanism is not built yet sit on [`PENDING`]: they are printed and allowed,
//! and the test fails as soon as one becomes covered, so the list only ever shrinks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The domain specification, relative to the workspace root.
const DOMAIN_MD: &str = "docs/DOMAIN.md";
const COVERAGE_MD: &str = "docs/DOMAIN-COVERAGE.md";
const TREES: [&str; 4] = ["core", "server", "tests", "bindings"];
const THIS_FILE: &str = "core/tests/integration/rule_index.rs";
const PREFIXES: [&str; 11] = [
    "FLD", "H", "S", "CH", "HV", "MH", "EQ", "RK", "CF", "SAF", "FX",
];
/// How many covering tests the coverage table names per ID before summarising the rest.
const SHOWN_TESTS: usize = 6;

/// Rule IDs no test names yet because the mechanism that implements them belongs to work
/// still in progress (the document layer's conflicts and history, the sync issue, FHIR
/// export). Each entry says whose work covers it. Remove an entry when its test lands —
/// `every_rule_id_is_named_by_a_test` fails until you do.
const PENDING: &[(&str, &str)] = &[];

// --- The §1.2 matcher ------------------------------------------------------------------

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_seg(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

/// The end of the §1.2 match starting at `start`, if any: the regex
/// `\b(FLD|…|FX)(-[A-Z0-9]+)+\b` with its backtracking, i.e. the longest run of
/// `-[A-Z0-9]+` segments that ends at a word boundary.
fn match_at(text: &[u8], start: usize) -> Option<usize> {
    if start > 0 && is_word(text[start - 1]) {
        return None;
    }
    let mut best = None;
    for prefix in PREFIXES {
        if !text[start..].starts_with(prefix.as_bytes()) {
            continue;
        }
        let mut pos = start + prefix.len();
        loop {
            if text.get(pos) != Some(&b'-') {
                break;
            }
            let seg_start = pos + 1;
            let mut end = seg_start;
            while end < text.len() && is_seg(text[end]) {
                end += 1;
            }
            if end == seg_start {
                break;
            }
            // Backtracking inside a segment would leave an upper-case letter or digit next,
            // which is a word character, so only the end of a maximal segment can match.
            if end == text.len() || !is_word(text[end]) {
                best = best.max(Some(end));
            }
            pos = end;
        }
    }
    best
}

/// Every §1.2 match in `text`, with its byte offset.
fn find_ids(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match match_at(b, i) {
            Some(end) => {
                out.push((i, text[i..end].to_owned()));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Whether `s` is exactly one rule ID.
fn is_rule_id(s: &str) -> bool {
    match_at(s.as_bytes(), 0) == Some(s.len())
}

// --- §10 ------------------------------------------------------------------------------

#[derive(Debug)]
struct IndexEntry {
    id: String,
    section: String,
    retired: bool,
}

/// The workspace whose specification and test sources are checked: this checkout, or the copy
/// named by `HOMEVISIT_WORKSPACE` (CI runs the test against a copy of the repository with
/// nothing beside it, to prove the repository is self-contained).
fn workspace() -> PathBuf {
    std::env::var_os("HOMEVISIT_WORKSPACE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    )
}

fn domain_text() -> String {
    let path = workspace().join(DOMAIN_MD);
    fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read DOMAIN.md at {}: {e}. The domain specification is the project's own \
             docs/DOMAIN.md.",
            path.display()
        )
    })
}

/// The text of §10 (from its heading to the next `## ` heading or the end).
fn section_10(domain: &str) -> &str {
    let start = domain
        .find("\n## 10.")
        .expect("DOMAIN.md has no `## 10.` (rule index) heading");
    let rest = &domain[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The rule IDs of §10 in order: every back-quoted token on its `- §x.y:` lines. An item
/// mentioning "retired" marks its ID retired.
fn parse_index(domain: &str) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    for line in section_10(domain).lines() {
        let Some(rest) = line.trim_start().strip_prefix("- ") else {
            continue;
        };
        let Some((section, list)) = rest.split_once(':') else {
            continue;
        };
        for item in list.split(',') {
            let mut parts = item.split('`');
            parts.next();
            if let Some(token) = parts.next() {
                out.push(IndexEntry {
                    id: token.to_owned(),
                    section: section.trim().to_owned(),
                    retired: item.to_ascii_lowercase().contains("retired"),
                });
            }
        }
    }
    out
}

// --- Test sources ----------------------------------------------------------------------

fn skip_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "target" | "node_modules" | "gen" | "build" | "__pycache__" | "venv"
        )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if !skip_dir(&name) {
                walk(&path, out);
            }
        } else if kind.is_file()
            && matches!(
                path.extension().and_then(|x| x.to_str()),
                Some("rs" | "kt" | "py")
            )
        {
            out.push(path);
        }
    }
}

/// The test text of every test source, keyed by its path relative to the workspace.
fn test_sources() -> BTreeMap<String, String> {
    let root = workspace();
    let root = root.as_path();
    let mut files = Vec::new();
    for tree in TREES {
        walk(&root.join(tree), &mut files);
    }
    let mut out = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == THIS_FILE {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let in_tests_dir = rel.split('/').any(|c| c == "tests");
        let py_test = rel
            .rsplit('/')
            .next()
            .is_some_and(|f| f.starts_with("test_") && f.ends_with(".py"));
        let test_text = if in_tests_dir || py_test {
            Some(text.as_str())
        } else if rel.ends_with(".rs") {
            text.find("#[cfg(test)]").map(|i| &text[i..])
        } else {
            None
        };
        if let Some(t) = test_text {
            let python = rel.ends_with(".py");
            out.insert(rel, strip_comments(t, python));
        }
    }
    out
}

/// `text` with comments blanked out (same length, newlines kept), so an ID mentioned only
/// in a comment never counts as tested. Rust and Kotlin: `//` and `/* */` outside string and
/// character literals; Python: `#` outside string literals.
fn strip_comments(text: &str, python: bool) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let raw_start = !python
            && c == b'r'
            && (i == 0
                || !is_word(b[i - 1])
                || (b[i - 1] == b'b' && (i < 2 || !is_word(b[i - 2]))));
        let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
        if raw_start && b.get(i + 1 + hashes) == Some(&b'"') {
            // A raw string r#"…"#: ends at a quote followed by as many hashes.
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + 2 + hashes;
            i = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p + close.len());
        } else if c == b'"' || (python && c == b'\'') {
            // A string literal: skip to its closing quote, honouring escapes.
            let quote = c;
            i += 1;
            while i < b.len() && b[i] != quote {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if !python && c == b'\'' {
            // A character literal ('x', '\n', '"') or a lifetime ('a): skip literals only.
            match (b.get(i + 1), b.get(i + 2), b.get(i + 3)) {
                (Some(b'\\'), _, _) => {
                    let close = b
                        .get(i + 3..)
                        .and_then(|r| r.iter().position(|c| *c == b'\''));
                    i += close.map_or(1, |p| p + 4);
                }
                (Some(_), Some(b'\''), _) => i += 3,
                _ => i += 1,
            }
        } else if (python && c == b'#') || (!python && c == b'/' && b.get(i + 1) == Some(&b'/')) {
            let end = b[i..]
                .iter()
                .position(|c| *c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if !python && c == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else {
            i += 1;
        }
    }
    // Only ASCII bytes were replaced, and only whole comments, which start and end on
    // character boundaries, so the result is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Functions declared in `text` (`fn`, `fun`, `def`), with the offset of their name.
fn functions(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for kw in ["fn ", "fun ", "def "] {
        let mut from = 0;
        while let Some(i) = text[from..].find(kw) {
            let at = from + i;
            from = at + kw.len();
            if at > 0 && is_word(b[at - 1]) {
                continue;
            }
            let name_start = at + kw.len();
            let name_end = name_start
                + text[name_start..]
                    .bytes()
                    .take_while(|c| is_word(*c))
                    .count();
            if name_end > name_start {
                out.push((name_start, &text[name_start..name_end]));
            }
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Each ID's snake-case words (`MH-SWL-MARGIN` → `mh`, `swl`, `margin`), longest first.
fn snake_forms(ids: &BTreeSet<String>) -> Vec<(Vec<String>, String)> {
    let mut snake: Vec<(Vec<String>, String)> = ids
        .iter()
        .map(|id| {
            let words = id
                .to_ascii_lowercase()
                .split('-')
                .map(str::to_owned)
                .collect();
            (words, id.clone())
        })
        .collect();
    snake.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
    snake
}

/// The IDs a function name spells in snake case, as whole `_`-separated words, taking the
/// longest ID at each position.
fn ids_in_name(name: &str, snake: &[(Vec<String>, String)]) -> Vec<String> {
    let words: Vec<&str> = name.split('_').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let hit = snake.iter().find(|(w, _)| {
            words.len() >= i + w.len() && w.iter().zip(&words[i..]).all(|(a, b)| a == b)
        });
        match hit {
            Some((w, id)) => {
                out.push(id.clone());
                i += w.len();
            }
            None => i += 1,
        }
    }
    out
}

/// Which §10 IDs each test source names, and where (`path::function`, or the path alone
/// outside any function).
fn coverage(ids: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let snake = snake_forms(ids);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in test_sources() {
        let fns = functions(&text);
        let owner = |offset: usize| {
            fns.iter()
                .rev()
                .find(|(at, _)| *at <= offset)
                .map_or(path.clone(), |(_, name)| format!("{path}::{name}"))
        };
        for (offset, id) in find_ids(&text) {
            if ids.contains(&id) {
                out.entry(id).or_default().insert(owner(offset));
            }
        }
        for (at, name) in &fns {
            for id in ids_in_name(name, &snake) {
                out.entry(id).or_default().insert(owner(*at));
            }
        }
    }
    out
}

// --- The coverage document ---------------------------------------------------------------

fn render_coverage(index: &[IndexEntry], covered: &BTreeMap<String, BTreeSet<String>>) -> String {
    let pending: BTreeMap<&str, &str> = PENDING.iter().copied().collect();
    let mut s = String::new();
    s.push_str("# Domain rule coverage\n\n");
    s.push_str(
        "Generated by `core/tests/integration/rule_index.rs` from DOMAIN.md §10 and the test sources; do \
         not edit by hand. Regenerate with\n\n```sh\nUPDATE_COVERAGE=1 cargo nextest run \
         --locked -p homevisit-core --test integration -E 'test(/rule_index::/)'\n```\n\n",
    );
    s.push_str(
        "A rule ID counts as covered when test source text (files under a `tests/` folder, \
         `test_*.py`, and `.rs` files from their first `#[cfg(test)]` on, in `core/`, \
         `server/`, `tests/` and `bindings/`) contains it verbatim (longest match of the \
         DOMAIN.md §1.2 pattern) or a function declared there names it in snake case \
         (`mh_swl_margin_…` names `MH-SWL-MARGIN`). Each row lists the covering tests as \
         `path::function`, at most ",
    );
    s.push_str(&SHOWN_TESTS.to_string());
    s.push_str(" of them, then how many more.\n\n");
    let total = index.iter().filter(|e| !e.retired).count();
    let n_covered = index
        .iter()
        .filter(|e| !e.retired && covered.contains_key(&e.id))
        .count();
    s.push_str(&format!(
        "{n_covered} of {total} rule IDs are named by a test; {} pending.\n\n",
        PENDING.len()
    ));
    s.push_str("| Rule ID | DOMAIN.md | Tests |\n|---|---|---|\n");
    for e in index {
        let tests = if e.retired {
            "retired".to_owned()
        } else if let Some(why) = pending.get(e.id.as_str()) {
            format!("**pending** — {why}")
        } else {
            match covered.get(&e.id) {
                None => "**none**".to_owned(),
                Some(t) => {
                    let mut shown: Vec<String> = t
                        .iter()
                        .take(SHOWN_TESTS)
                        .map(|t| format!("`{t}`"))
                        .collect();
                    if t.len() > SHOWN_TESTS {
                        shown.push(format!("and {} more", t.len() - SHOWN_TESTS));
                    }
                    shown.join(", ")
                }
            }
        };
        s.push_str(&format!("| `{}` | {} | {} |\n", e.id, e.section, tests));
    }
    s
}

// --- Tests -------------------------------------------------------------------------------

#[test]
fn id_matcher_follows_the_section_1_2_regex() {
    let ids = |t: &str| -> Vec<String> { find_ids(t).into_iter().map(|(_, id)| id).collect() };
    assert_eq!(ids("[MH-SWL] weight"), ["MH-SWL"]);
    assert_eq!(
        ids("`MH-SWL-MARGIN`, `HV-A-TIMES`"),
        ["MH-SWL-MARGIN", "HV-A-TIMES"]
    );
    // The longest match wins; a trailing lower-case word is cut at the last boundary.
    assert_eq!(ids("MH-SWL-margin"), ["MH-SWL"]);
    assert_eq!(ids("MH-SWLx"), Vec::<String>::new());
    assert_eq!(ids("MH-SWL_x"), Vec::<String>::new());
    // A prefix must start at a word boundary and be followed by a segment.
    assert_eq!(ids("XMH-SWL SH-1 MH- MH-a"), Vec::<String>::new());
    // `HV` is tried after `H` fails, as regex alternation backtracks.
    assert_eq!(ids("HV-I-REVIEW"), ["HV-I-REVIEW"]);
    // Transition numbers are not rule IDs.
    assert_eq!(ids("W1 W19 w5"), Vec::<String>::new());
    assert!(is_rule_id("S-INELIGIBLE"));
    assert!(is_rule_id("FX-NHS-ID"));
    assert!(!is_rule_id("S-ineligible"));
    assert!(!is_rule_id("QQ-X"));
    assert!(!is_rule_id("MH"));
}

#[test]
fn snake_case_function_names_match_whole_words_longest_first() {
    let ids: BTreeSet<String> = ["MH-SWL", "MH-SWL-MARGIN", "S-NEED", "H-ELIG-AGE"]
        .into_iter()
        .map(String::from)
        .collect();
    let snake = snake_forms(&ids);
    assert_eq!(
        ids_in_name("mh_swl_margin_warns", &snake),
        ["MH-SWL-MARGIN"]
    );
    assert_eq!(ids_in_name("weight_is_mh_swl_error", &snake), ["MH-SWL"]);
    assert_eq!(
        ids_in_name("v10_s_need_and_h_elig_age", &snake),
        ["S-NEED", "H-ELIG-AGE"]
    );
    assert!(ids_in_name("has_needs", &snake).is_empty());
    assert!(ids_in_name("mhswl", &snake).is_empty());
    let text = "fn mh_swl_margin_warns() {}\n    fun kotlinTest() {}\ndef test_py(): pass\nfn_x";
    let names: Vec<&str> = functions(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["mh_swl_margin_warns", "kotlinTest", "test_py"]);
}

#[test]
fn ids_in_comments_do_not_count_but_ids_in_strings_do() {
    let rust = "// MH-SWL\n/* CF-SET */ let a = \"EQ-ROLE // x\"; let c = '\"'; // RK-EIE\n\
                fn f<'a>() { \"S-NEED\" } let q = '\\''; let r = r#\"a \"// x\" FX-EIE\"#; // CF-TEXT";
    let ids: Vec<String> = find_ids(&strip_comments(rust, false))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ids, ["EQ-ROLE", "S-NEED", "FX-EIE"]);
    let py = "# MH-SWL\nassert e.rule_id == 'EQ-ROLE'  # CF-SET\nx = \"#S-NEED\"";
    let ids: Vec<String> = find_ids(&strip_comments(py, true))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ids, ["EQ-ROLE", "S-NEED"]);
    assert_eq!(strip_comments(rust, false).len(), rust.len());
}

#[test]
fn rule_index_ids_match_the_section_1_2_pattern_and_are_unique() {
    let domain = domain_text();
    let index = parse_index(&domain);
    assert!(
        index.len() > 50,
        "§10 parsed to only {} IDs; has its format changed?",
        index.len()
    );
    let bad: Vec<&str> = index
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !is_rule_id(id))
        .collect();
    assert!(bad.is_empty(), "§10 IDs not matching §1.2: {bad:?}");
    let mut seen = BTreeSet::new();
    let dupes: Vec<&str> = index
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !seen.insert(*id))
        .collect();
    assert!(dupes.is_empty(), "§10 lists IDs twice: {dupes:?}");
    // Nothing in §10 looks like an ID without being listed as one.
    let listed: BTreeSet<String> = index.iter().map(|e| e.id.clone()).collect();
    let found: BTreeSet<String> = find_ids(section_10(&domain))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(found, listed, "§10 text and its back-quoted IDs disagree");
    for (id, _) in PENDING {
        assert!(
            listed.contains(*id),
            "PENDING names {id}, which §10 does not list"
        );
    }
}

#[test]
fn every_rule_id_used_in_domain_md_is_listed_in_section_10() {
    // §10 is the complete index: every ID used anywhere in DOMAIN.md is listed there.
    let domain = domain_text();
    let listed: BTreeSet<String> = parse_index(&domain).into_iter().map(|e| e.id).collect();
    let used: BTreeSet<String> = find_ids(&domain).into_iter().map(|(_, id)| id).collect();
    let unlisted: Vec<&String> = used.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "IDs used in DOMAIN.md but missing from §10: {unlisted:?}"
    );
}

#[test]
fn every_rule_id_is_named_by_a_test() {
    let index = parse_index(&domain_text());
    let ids: BTreeSet<String> = index.iter().map(|e| e.id.clone()).collect();
    let covered = coverage(&ids);
    let pending: BTreeSet<&str> = PENDING.iter().map(|(id, _)| *id).collect();
    for (id, why) in PENDING {
        println!("pending: {id} — {why}");
    }
    let missing: Vec<&str> = index
        .iter()
        .filter(|e| !e.retired && !covered.contains_key(&e.id) && !pending.contains(e.id.as_str()))
        .map(|e| e.id.as_str())
        .collect();
    let now_covered: Vec<&str> = pending
        .iter()
        .copied()
        .filter(|id| covered.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} rule ID(s) of DOMAIN.md §10 are named by no test: {missing:?}. Write a test that \
         proves each rule and names it (in the test's name, snake case, or in an assertion on \
         its rule_id); see the criterion at the top of core/tests/integration/rule_index.rs.",
        missing.len()
    );
    assert!(
        now_covered.is_empty(),
        "PENDING rule ID(s) now have tests: {now_covered:?}. Remove them from PENDING in \
         core/tests/integration/rule_index.rs and regenerate docs/DOMAIN-COVERAGE.md (UPDATE_COVERAGE=1)."
    );
}

#[test]
fn domain_coverage_doc_is_up_to_date() {
    let index = parse_index(&domain_text());
    let ids: BTreeSet<String> = index.iter().map(|e| e.id.clone()).collect();
    let fresh = render_coverage(&index, &coverage(&ids));
    let path = workspace().join(COVERAGE_MD);
    if std::env::var_os("UPDATE_COVERAGE").is_some_and(|v| v == "1") {
        fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "{COVERAGE_MD} is stale (tests or DOMAIN.md §10 changed). Regenerate it with\n  \
         UPDATE_COVERAGE=1 cargo nextest run --locked -p homevisit-core --test integration -E 'test(/rule_index::/)'\n\
         and commit the result."
    );
}
