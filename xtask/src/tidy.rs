//! Tidy checks, run by `cargo test -p xtask`: conventions that keep the tree
//! honest (after rust-analyzer's `xtask/src/tidy.rs`).
//!
//! The checks about programs are functions of a root folder, so a test can
//! run them on a scratch tree and show that each one fails, with its fix in
//! the message, when a piece is missing. Every problem names its fix.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::manifest::{self, ComposePiece, Kind, Manifest, compose_value};

/// A program's crate folder under `crates/`.
#[derive(Debug)]
pub struct Folder {
    /// Package name (`mcp-server-fs`).
    pub name: String,
    /// `crates/servers/fs`.
    pub rel: String,
    /// The folder.
    pub dir: PathBuf,
}

/// Every program folder: `crates/<group>/<name>` with a `Cargo.toml`, where
/// the group (`servers`, `clients`) is not a crate itself. Folders in an
/// unknown group are reported.
pub fn program_folders(root: &Path) -> (Vec<Folder>, Vec<String>) {
    let mut found = vec![];
    let mut problems = vec![];
    for group in sorted_dirs(&root.join("crates")) {
        if group.join("Cargo.toml").exists() {
            continue; // mcp-core, mcp-test: crates, not groups of programs
        }
        let g = file_name(&group);
        for dir in sorted_dirs(&group).into_iter().filter(|d| d.join("Cargo.toml").exists()) {
            let short = file_name(&dir);
            let rel = format!("crates/{g}/{short}");
            let kind = [Kind::Server, Kind::Client].into_iter().find(|k| k.folder() == g);
            let Some(kind) = kind else {
                problems.push(format!("{rel}: programs live in crates/servers or crates/clients; move it there"));
                continue;
            };
            found.push(Folder { name: format!("{}{short}", kind.prefix()), rel, dir });
        }
    }
    (found, problems)
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            // Test fixtures are data shaped for a test (a project with known
            // lint findings at known lines), not the fleet's code.
            if p.file_name().is_some_and(|n| n == "target" || n == "fixtures") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The four things every program folder needs — a manifest entry, a golden
/// `tools/list`, a compliance test and a code-map heading — and a folder
/// for every manifest entry.
pub fn program_problems(root: &Path) -> Vec<String> {
    let (folders, mut problems) = program_folders(root);
    let m = match Manifest::load(root) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("{e:#}"));
            None
        }
    };
    let arch = read(&root.join("ARCHITECTURE.md"));
    for f in &folders {
        let name = &f.name;
        let cargo = read(&f.dir.join("Cargo.toml"));
        if !cargo.contains(&format!("name = \"{name}\"")) {
            problems.push(format!(
                "{}/Cargo.toml: the package must be named {name} (its path with hyphens; the compose service and image use it)",
                f.rel
            ));
        }
        if m.as_ref().is_some_and(|m| !m.programs.contains_key(name)) {
            problems.push(format!(
                "{name} ({}) has no entry in fleet.toml: add [programs.{name}] to fleet.toml with kind, port, image \
                 (base), peers and its local and compose environment (see ARCHITECTURE.md, \"Adding a program\"), \
                 then run `cargo xtask codegen`",
                f.rel
            ));
        }
        if !f.dir.join("tests/it/golden/tools_list.json").exists() {
            problems.push(format!(
                "{name} has no golden tools/list ({}/tests/it/golden/tools_list.json): add a test that compares \
                 mcp_test::golden::tools_list(&server) with expect_test::expect_file![\"golden/tools_list.json\"] \
                 (see crates/servers/fs/tests/it/compliance.rs), then run `UPDATE_EXPECT=1 cargo test -p {name}`",
                f.rel
            ));
        }
        let mut files = vec![];
        rust_files(&f.dir.join("tests"), &mut files);
        if !files.iter().any(|p| read(p).contains("assert_server_compliance(")) {
            problems.push(format!(
                "{name}'s tests never call assert_server_compliance: add a test in {}/tests/it that calls \
                 mcp_test::assert_server_compliance(&server, Probe::new(tool, args)) (see \
                 crates/servers/fs/tests/it/compliance.rs)",
                f.rel
            ));
        }
        let heading = format!("### `{}`", f.rel);
        if !arch.lines().any(|l| l.starts_with(&heading)) {
            problems.push(format!(
                "{name} has no code-map heading: add `{heading} (`{name}`)` to ARCHITECTURE.md's code map, with \
                 what the program does, its modules and its invariants"
            ));
        }
    }
    if let Some(m) = &m {
        let names: BTreeSet<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        for (name, p) in &m.programs {
            if !names.contains(name.as_str()) {
                let short = name.strip_prefix(p.kind.prefix()).unwrap_or(name);
                problems.push(format!(
                    "fleet.toml lists {name} but crates/{}/{short} does not exist: a program that is not built has \
                     no entry; remove [programs.{name}] (or add the crate), then run `cargo xtask codegen`",
                    p.kind.folder()
                ));
            }
        }
    }
    problems
}

/// The manifest against the rest of the tree: its own rules, the secrets
/// and terraform variables it names, the peers each crate reads, and
/// `.env.example` documenting every compose variable.
pub fn manifest_problems(root: &Path) -> Vec<String> {
    let m = match Manifest::load(root) {
        Ok(m) => m,
        Err(e) => return vec![format!("{e:#}")],
    };
    let mut problems = m.validate();
    let compose = read(&root.join("docker-compose.yml"));
    let main_tf = read(&root.join("terraform/main.tf"));
    let variables_tf = read(&root.join("terraform/variables.tf"));
    for (name, p) in &m.programs {
        for s in &p.secrets {
            let declared = compose.contains(&format!("\n  {s}:\n    file: "));
            let in_tf = main_tf
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{s} ")) && l.contains(&format!("var.{s}")));
            if !declared || !in_tf {
                problems.push(format!(
                    "[programs.{name}] mounts secret {s}: declare it under `secrets:` in docker-compose.yml, add \
                     `{s} = var.{s}` to secret_values in terraform/main.tf with a sensitive variable in \
                     terraform/variables.tf, create its file in images::ensure_secrets, and place it in \
                     ansible/roles/fleet/tasks/main.yml (with vault_{s} in ansible/vault.example.yml)"
                ));
            }
        }
        // The peers a crate reads are the peers it declares: its compose and
        // local environments give it exactly those URLs.
        if let Some(dir) = crate::fleet::crate_dir(root, name) {
            let mut files = vec![];
            rust_files(&dir.join("src"), &mut files);
            let mut read_peers = BTreeSet::new();
            for f in &files {
                let text = read(f);
                for prefix in ["\"MCP_SERVER_", "\"MCP_CLIENT_"] {
                    for (i, _) in text.match_indices(prefix) {
                        let var = text[i + 1..].split('"').next().unwrap_or_default();
                        if let Some(stem) = var.strip_suffix("_URL") {
                            read_peers.insert(stem.to_lowercase().replace('_', "-"));
                        }
                    }
                }
            }
            // Every variable the manifest sets is one the program reads: a
            // string literal in its crate or in mcp-core's shared config (a
            // variable nobody reads is a setting that silently does nothing).
            let mut shared = vec![];
            rust_files(&root.join("crates/mcp-core/src"), &mut shared);
            let known: String = files.iter().chain(&shared).map(|f| read(f)).collect();
            let set = p.compose.env.iter().chain(p.local.env.iter()).chain(p.image.env.iter());
            let unread: BTreeSet<&str> = set.map(|(k, _)| k).filter(|k| !known.contains(&format!("\"{k}\""))).collect();
            for k in unread {
                problems.push(format!(
                    "[programs.{name}] sets {k}, which {name} does not read: remove it from fleet.toml (then run \
                     `cargo xtask codegen`) or add the documented constant to its config.rs"
                ));
            }
            for peer in read_peers {
                if !p.peers.contains(&peer) {
                    problems.push(format!(
                        "{name} reads {} but fleet.toml does not list {peer} among its peers: add it to peers of \
                         [programs.{name}], then run `cargo xtask codegen`",
                        manifest::peer_var(&peer)
                    ));
                }
            }
        }
    }
    for (var, tf) in &m.terraform.variables {
        if !variables_tf.contains(&format!("variable \"{tf}\" {{")) {
            problems.push(format!(
                "[terraform.variables] maps {var} to {tf}, which terraform/variables.tf does not declare: add \
                 `variable \"{tf}\"` there (with the compose default) or fix the mapping"
            ));
        }
    }
    let env_example = read(&root.join(".env.example"));
    let documented: BTreeSet<&str> =
        env_example.lines().filter_map(|l| l.split_once('=').map(|(k, _)| k.trim())).collect();
    let used: BTreeSet<String> =
        compose.lines().filter(|l| !l.trim_start().starts_with('#')).flat_map(compose_vars).collect();
    for var in used {
        if !documented.contains(var.as_str()) {
            problems.push(format!(
                "docker-compose.yml reads ${{{var}}} but .env.example does not document it: add a comment saying \
                 what it is and `{var}=<its default>` to .env.example"
            ));
        }
    }
    problems
}

/// The compose variables a compose value reads.
pub fn compose_vars(value: &str) -> BTreeSet<String> {
    compose_value(value)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            ComposePiece::Var(n, _) => Some(n.to_owned()),
            ComposePiece::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::workspace_root;

    fn assert_none(problems: Vec<String>) {
        assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc() {
        let root = workspace_root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        rust_files(&root.join("xtask"), &mut files);
        let bad: Vec<_> = files
            .iter()
            .filter(|f| !read(f).starts_with("//!"))
            .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
            .collect();
        assert!(bad.is_empty(), "files without a //! doc: {bad:?}");
    }

    #[test]
    fn every_program_folder_has_an_entry_a_golden_a_compliance_test_and_a_heading() {
        let root = workspace_root();
        let (folders, _) = program_folders(&root);
        // Servers and clients alike, none exempt.
        assert!(
            folders.iter().any(|f| f.name == "mcp-server-fs") && folders.iter().any(|f| f.name == "mcp-client-planner")
        );
        assert_none(program_problems(&root));
    }

    #[test]
    fn the_manifest_agrees_with_the_tree() {
        assert_none(manifest_problems(&workspace_root()));
    }

    #[test]
    fn generated_files_are_fresh() {
        assert_none(crate::codegen::stale(&workspace_root()));
    }

    /// The secrets docker-compose.yml declares (its top-level `secrets:`).
    fn compose_secrets(compose: &str) -> Vec<String> {
        compose
            .lines()
            .skip_while(|l| *l != "secrets:")
            .skip(1)
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|n| !n.starts_with([' ', '#']))
            .map(str::to_owned)
            .collect()
    }

    /// Compose fails to start without a declared secret's file: `cargo xtask
    /// images` makes the missing ones and the playbook places every one
    /// (from the vault, else generated), so both must know each secret.
    #[test]
    fn every_compose_secret_is_made_by_xtask_and_placed_by_ansible() {
        let root = workspace_root();
        let declared = compose_secrets(&read(&root.join("docker-compose.yml")));
        assert!(declared.iter().any(|s| s == "mcp_token") && declared.len() > 1, "{declared:?}");
        let dir = tempfile::tempdir().unwrap();
        crate::images::ensure_secrets_in(dir.path()).unwrap();
        let ansible = read(&root.join("ansible/roles/fleet/tasks/main.yml"));
        let vault = read(&root.join("ansible/vault.example.yml"));
        for s in declared {
            assert!(
                dir.path().join(&s).exists(),
                "docker-compose.yml declares secret {s} but images::ensure_secrets does not make it: add it there"
            );
            assert!(
                ansible.lines().any(|l| l.trim() == format!("- {s}")) && vault.contains(&format!("\nvault_{s}: ")),
                "docker-compose.yml declares secret {s}: add `- {s}` to the loop of \"Place the secret files\" in \
                 ansible/roles/fleet/tasks/main.yml and `vault_{s}:` to ansible/vault.example.yml"
            );
        }
    }

    /// A tree with one program, `crates/servers/scratch`, that has all four
    /// pieces; `without` leaves one out.
    fn scratch_tree(without: Option<&str>) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let dir = r.join("crates/servers/scratch");
        std::fs::create_dir_all(dir.join("tests/it/golden")).unwrap();
        std::fs::create_dir_all(r.join("crates/mcp-core/src")).unwrap();
        std::fs::write(r.join("crates/mcp-core/Cargo.toml"), "[package]\nname = \"mcp-core\"\n").unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"mcp-server-scratch\"\n").unwrap();
        let mut manifest = String::new();
        if without != Some("entry") {
            manifest
                .push_str("[programs.mcp-server-scratch]\nkind = \"server\"\nport = 8199\nimage.base = \"scratch\"\n");
        } else {
            manifest.push_str("programs = {}\n");
        }
        std::fs::write(r.join("fleet.toml"), manifest).unwrap();
        if without != Some("golden") {
            std::fs::write(dir.join("tests/it/golden/tools_list.json"), "{}\n").unwrap();
        }
        let call = if without == Some("compliance") { "" } else { "assert_server_compliance(&s, probe).await;" };
        std::fs::write(dir.join("tests/it/main.rs"), format!("//! Tests.\nasync fn t() {{ {call} }}\n")).unwrap();
        let heading =
            if without == Some("heading") { "" } else { "### `crates/servers/scratch` (`mcp-server-scratch`)\n" };
        std::fs::write(r.join("ARCHITECTURE.md"), format!("# Architecture\n\n## Code map\n\n{heading}")).unwrap();
        t
    }

    #[test]
    fn tidy_fails_on_a_scratch_program_missing_any_piece_and_says_how_to_fix_it() {
        assert_none(program_problems(scratch_tree(None).path()));
        for (missing, fix) in [
            ("entry", "add [programs.mcp-server-scratch] to fleet.toml"),
            ("golden", "UPDATE_EXPECT=1 cargo test -p mcp-server-scratch"),
            ("compliance", "calls mcp_test::assert_server_compliance("),
            ("heading", "add `### `crates/servers/scratch` (`mcp-server-scratch`)` to ARCHITECTURE.md"),
        ] {
            let problems = program_problems(scratch_tree(Some(missing)).path());
            assert_eq!(problems.len(), 1, "without {missing}: {problems:#?}");
            assert!(problems[0].contains(fix), "without {missing}: {:?} lacks {fix:?}", problems[0]);
        }
        // And the other way round: an entry whose crate does not exist.
        let t = scratch_tree(None);
        std::fs::remove_dir_all(t.path().join("crates/servers/scratch")).unwrap();
        let problems = program_problems(t.path());
        assert!(problems.len() == 1 && problems[0].contains("remove [programs.mcp-server-scratch]"), "{problems:#?}");
        // A program folder in a group that is neither servers nor clients.
        let t = scratch_tree(None);
        std::fs::create_dir_all(t.path().join("crates/tools/x")).unwrap();
        std::fs::write(t.path().join("crates/tools/x/Cargo.toml"), "").unwrap();
        let problems = program_problems(t.path());
        assert!(problems.iter().any(|p| p.contains("crates/tools/x: programs live in")), "{problems:#?}");
    }

    #[test]
    fn manifest_checks_catch_undeclared_peers_secrets_and_variables() {
        let root = workspace_root();
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for f in ["docker-compose.yml", ".env.example", "terraform/main.tf", "terraform/variables.tf"] {
            std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
            std::fs::copy(root.join(f), r.join(f)).unwrap();
        }
        let src = r.join("crates/clients/observer/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(r.join("crates/clients/observer/Cargo.toml"), "").unwrap();
        std::fs::write(src.join("config.rs"), "//! c\npub const A: &str = \"MCP_SERVER_GIT_URL\";\n").unwrap();
        let text = read(&root.join("fleet.toml"))
            .replace("secrets = [\"llm_api_key\"]", "secrets = [\"llm_api_key\", \"vault_key\"]")
            .replace("LLM_MODEL = \"llm_model\"", "LLM_MODEL = \"llm_model\"\nNEW_ONE = \"new_one\"");
        std::fs::write(r.join("fleet.toml"), text).unwrap();
        let compose = read(&r.join("docker-compose.yml")).replace("RUST_LOG: ${RUST_LOG", "RUST_LOG: ${UNDOCUMENTED");
        std::fs::write(r.join("docker-compose.yml"), compose).unwrap();
        let found = manifest_problems(r).join("\n");
        for want in [
            "mcp-client-observer reads MCP_SERVER_GIT_URL but fleet.toml does not list mcp-server-git",
            "sets OBSERVER_DATABASE_URL, which mcp-client-observer does not read",
            "mounts secret vault_key: declare it",
            "maps NEW_ONE to new_one, which terraform/variables.tf does not declare",
            "reads ${UNDOCUMENTED} but .env.example does not document it",
        ] {
            assert!(found.contains(want), "{want:?} not in:\n{found}");
        }
    }

    #[test]
    fn every_config_variable_is_a_documented_constant() {
        let root = workspace_root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        for f in files.iter().filter(|f| f.file_name().is_some_and(|n| n == "config.rs")) {
            let text = read(f);
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                if l.starts_with("pub const ") && l.contains(": &str = \"") {
                    let documented = i > 0 && lines[i - 1].trim_start().starts_with("///");
                    assert!(documented, "{}: undocumented variable: {l}", f.display());
                }
            }
        }
    }

    /// One crypto provider (ring) and no second C build: crates the next
    /// programs want (the `gitlab` crate, `jsonschema`'s defaults,
    /// `jsonwebtoken` with `aws_lc_rs`, reqwest's `rustls` feature) would
    /// pull aws-lc in by default.
    /// The toolchain image installs the PyPI linters the lint server's tests
    /// pin, at the same versions: what compose runs is what was tested.
    #[test]
    fn the_toolchain_image_pins_the_lint_tools_the_tests_use() {
        let root = workspace_root();
        let dockerfile = read(&root.join("docker/Dockerfile"));
        let pins: Vec<String> = read(&root.join("crates/servers/lint/tests/tools.txt"))
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        assert!(!pins.is_empty());
        for pin in pins {
            assert!(
                dockerfile.contains(&format!(" {pin}")),
                "docker/Dockerfile does not install {pin} (crates/servers/lint/tests/tools.txt): update the \
                 toolchain stage's pip install"
            );
        }
    }

    #[test]
    fn no_second_crypto_provider_is_in_the_tree() {
        let root = workspace_root();
        for banned in ["aws-lc-sys", "aws-lc-rs", "openssl-sys"] {
            let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["tree", "--offline", "--quiet", "--workspace", "-e", "normal,build", "-i", banned])
                .current_dir(&root)
                .output()
                .unwrap_or_else(|e| panic!("cargo tree: {e}"));
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Absent: cargo says the spec matches no package.
            if !out.status.success() && stderr.contains("did not match any packages") {
                continue;
            }
            assert!(
                stdout.trim().is_empty(),
                "{banned} is in the dependency tree; pick the crate's ring or pure-Rust features instead \
                 (the workspace's one provider is ring):\n{stdout}"
            );
            assert!(out.status.success(), "cargo tree -i {banned} failed: {stderr}");
        }
    }

    #[test]
    fn readme_has_the_two_commands_and_ci_runs_the_test_one() {
        let root = workspace_root();
        let readme = read(&root.join("README.md"));
        assert!(readme.contains("cargo xtask up"), "README lacks `cargo xtask up`");
        assert!(readme.contains("cargo xtask test"), "README lacks `cargo xtask test`");
        let ci = read(&root.join(".ci/run"));
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
