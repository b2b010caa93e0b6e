//! `cargo test` on stable prints text only (`--format json` needs nightly),
//! so the results are read from libtest's lines: `running N tests`,
//! `test NAME ... ok|FAILED|ignored`, the `---- NAME stdout ----` failure
//! sections and each binary's `test result:` line, which is also how the
//! parse checks itself. Cargo names each binary on stderr (`Running
//! tests/cli.rs (...)`, `Doc-tests crate`), in the same order as the blocks
//! on stdout, which gives integration tests their target prefix.

use crate::junit::{panic_location, panic_message};
use crate::model::{Case, excerpt};

/// Bytes of a failure section kept per case.
const CASE_OUTPUT: usize = 4096;

/// Cases and what did not add up.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Cases in output order.
    pub cases: Vec<Case>,
    /// `test result:` lines seen.
    pub results: usize,
    /// Disagreements between the lines and the `test result:` counts.
    pub problems: Vec<String>,
}

/// A test binary as cargo names it on stderr.
#[derive(Debug, Clone)]
struct Target {
    /// Prefix of its test ids (`cli` for `tests/cli.rs`; none for unit and doc tests).
    prefix: Option<String>,
    /// Suite name shown with each case.
    suite: String,
}

fn targets(stderr: &str) -> Vec<Target> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix("Running ") {
                let src = rest.split(" (").next().unwrap_or(rest);
                if let Some(unit) = src.strip_prefix("unittests ") {
                    return Some(Target { prefix: None, suite: unit.to_owned() });
                }
                let stem = std::path::Path::new(src).file_stem().map(|s| s.to_string_lossy().into_owned());
                return Some(Target { prefix: stem, suite: src.to_owned() });
            }
            l.strip_prefix("Doc-tests ").map(|c| Target { prefix: None, suite: format!("doc-tests {c}") })
        })
        .collect()
}

/// Parse one `cargo test` run's stdout and stderr.
pub fn parse(stdout: &str, stderr: &str) -> Parsed {
    let targets = targets(stderr);
    let mut p = Parsed::default();
    let mut block: Option<usize> = None;
    let mut block_start = 0usize;
    let mut section: Option<(usize, String)> = None;
    let flush = |p: &mut Parsed, section: &mut Option<(usize, String)>| {
        if let Some((i, text)) = section.take()
            && let Some(c) = p.cases.get_mut(i)
        {
            c.message = panic_message(&text).or_else(|| text.lines().find(|l| !l.trim().is_empty()).map(str::to_owned));
            if let Some((f, l)) = panic_location(&text) {
                c.file = Some(f);
                c.line = Some(l);
            }
            c.output = Some(excerpt(text.trim_end(), CASE_OUTPUT));
        }
    };
    for line in stdout.lines() {
        if line.starts_with("running ") && line.ends_with(" test")
            || line.starts_with("running ") && line.ends_with(" tests")
        {
            flush(&mut p, &mut section);
            block = Some(block.map_or(0, |b| b + 1));
            block_start = p.cases.len();
            continue;
        }
        let target = block.and_then(|b| targets.get(b)).cloned();
        if let Some(rest) = line.strip_prefix("---- ")
            && let Some(name) = rest.strip_suffix(" stdout ----")
        {
            flush(&mut p, &mut section);
            let id = make_id(target.as_ref(), name);
            if let Some(i) = p.cases[block_start..].iter().position(|c| c.id == id) {
                section = Some((block_start + i, String::new()));
            }
            continue;
        }
        if line == "failures:" || line.starts_with("test result: ") {
            flush(&mut p, &mut section);
        }
        if let Some((_, text)) = section.as_mut() {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        if let Some(rest) = line.strip_prefix("test result: ") {
            p.results += 1;
            check_counts(&mut p, rest, block_start);
            continue;
        }
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, outcome)) = rest.rsplit_once(" ... ")
        {
            let status = match outcome.trim() {
                "ok" => "passed",
                "FAILED" => "failed",
                o if o.starts_with("ignored") => "skipped",
                _ => continue,
            };
            let mut c = Case::new(make_id(target.as_ref(), name), name, status);
            c.suite = target.as_ref().map(|t| t.suite.clone());
            if let Some(reason) = outcome.trim().strip_prefix("ignored, ") {
                c.message = Some(reason.to_owned());
            }
            p.cases.push(c);
        }
    }
    flush(&mut p, &mut section);
    p
}

fn make_id(target: Option<&Target>, name: &str) -> String {
    match target.and_then(|t| t.prefix.as_deref()) {
        Some(prefix) => format!("{prefix}::{name}"),
        None => name.to_owned(),
    }
}

/// `ok. 1 passed; 1 failed; 1 ignored; ...` against the block's lines.
fn check_counts(p: &mut Parsed, rest: &str, start: usize) {
    let count = |word: &str| -> Option<usize> {
        rest.split(';').find_map(|part| {
            let part = part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ");
            let (n, w) = part.split_once(' ')?;
            (w == word).then(|| n.parse().ok()).flatten()
        })
    };
    let block = &p.cases[start..];
    let seen = |s: &str| block.iter().filter(|c| c.status == s).count();
    for (word, status) in [("passed", "passed"), ("failed", "failed"), ("ignored", "skipped")] {
        if let Some(n) = count(word)
            && n != seen(status)
        {
            p.problems.push(format!("a test binary reported {n} {word} but {} such lines were read", seen(status)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_test_output() {
        let stdout = "\nrunning 3 tests\ntest tests::ignored ... ignored\ntest tests::it_works ... ok\ntest tests::fails ... FAILED\n\nfailures:\n\n---- tests::fails stdout ----\nprinted before the failure\n\nthread 'tests::fails' (16417) panicked at src/lib.rs:24:9:\nassertion `left == right` failed: one plus one\n  left: 2\n right: 3\nnote: run with `RUST_BACKTRACE=1`\n\n\nfailures:\n    tests::fails\n\ntest result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.10s\n\n\nrunning 1 test\ntest prints_help ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n\nrunning 1 test\ntest src/lib.rs - add (line 5) ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.11s\n";
        let stderr = "   Compiling rbasic v0.1.0 (/tmp/rb)\n     Running unittests src/lib.rs (target/debug/deps/rbasic-707b)\nerror: test failed, to rerun pass `--lib`\n     Running tests/cli.rs (target/debug/deps/cli-a225)\n   Doc-tests rbasic\n";
        let p = parse(stdout, stderr);
        let ids: Vec<(&str, &str)> = p.cases.iter().map(|c| (c.id.as_str(), c.status.as_str())).collect();
        assert_eq!(
            ids,
            [
                ("tests::ignored", "skipped"),
                ("tests::it_works", "passed"),
                ("tests::fails", "failed"),
                ("cli::prints_help", "passed"),
                ("src/lib.rs - add (line 5)", "passed")
            ]
        );
        let f = &p.cases[2];
        assert_eq!((f.file.as_deref(), f.line), (Some("src/lib.rs"), Some(24)));
        assert!(f.message.as_deref().unwrap().contains("one plus one"), "{f:?}");
        assert!(f.output.as_deref().unwrap().contains("printed before"));
        assert_eq!(p.results, 3);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        // A forged line inside a binary's block is caught by its counts.
        let forged = stdout.replace("test prints_help ... ok", "test prints_help ... ok\ntest extra ... ok");
        assert!(!parse(&forged, stderr).problems.is_empty());
    }
}
