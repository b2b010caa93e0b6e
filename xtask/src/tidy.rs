//! Tidy checks, run by `cargo test`: conventions that keep the tree honest
//! (after rust-analyzer's `xtask/src/tidy.rs`).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::fleet::{PROGRAMS, crate_dir};
    use crate::util::workspace_root;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "target") {
                    continue;
                }
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc() {
        let root = workspace_root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        rust_files(&root.join("xtask"), &mut files);
        let bad: Vec<_> = files
            .iter()
            .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().starts_with("//!"))
            .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
            .collect();
        assert!(bad.is_empty(), "files without a //! doc: {bad:?}");
    }

    #[test]
    fn every_program_is_in_the_code_map_and_has_a_golden_and_compliance() {
        let root = workspace_root();
        let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
        for (name, _) in PROGRAMS {
            let Some(dir) = crate_dir(&root, name) else { continue };
            assert!(arch.contains(&format!("`{name}`")), "{name} is missing from ARCHITECTURE.md's code map");
            if name.starts_with("mcp-server-") {
                assert!(dir.join("tests/it/golden/tools_list.json").exists(), "{name} has no golden tools/list");
                let mut files = Vec::new();
                rust_files(&dir.join("tests"), &mut files);
                let calls = files
                    .iter()
                    .any(|f| std::fs::read_to_string(f).unwrap_or_default().contains("assert_server_compliance("));
                assert!(calls, "{name}'s tests never call assert_server_compliance");
            }
        }
    }

    #[test]
    fn every_config_variable_is_a_documented_constant() {
        let root = workspace_root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        for f in files.iter().filter(|f| f.file_name().is_some_and(|n| n == "config.rs")) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                if l.starts_with("pub const ") && l.contains(": &str = \"") {
                    let documented = i > 0 && lines[i - 1].trim_start().starts_with("///");
                    assert!(documented, "{}: undocumented variable: {l}", f.display());
                }
            }
        }
    }

    #[test]
    fn readme_has_the_two_commands_and_ci_runs_the_test_one() {
        let root = workspace_root();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
        assert!(readme.contains("cargo xtask up"), "README lacks `cargo xtask up`");
        assert!(readme.contains("cargo xtask test"), "README lacks `cargo xtask test`");
        let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap_or_default();
        assert!(
            ci.lines().any(|l| l.trim_start().starts_with("cargo xtask test") || l.contains("exec cargo xtask test")),
            ".ci/run does not run `cargo xtask test`"
        );
    }

    #[test]
    fn every_top_level_folder_says_what_it_is_for() {
        let root = workspace_root();
        for d in ["llm", "ansible", "terraform", "templates", "projects", "scripts", "monitoring"] {
            assert!(root.join(d).join("README.md").exists(), "{d}/README.md missing");
        }
    }
}
