//! The templates as shipped: every project template's `.gitlab-ci.yml`,
//! rendered as the scaffold renders it, is valid against GitLab's schema,
//! and runs the same commands as its `template.json`.

use std::collections::BTreeMap;

use mcp_client_planner::templates::{PROJECT_VARS, Templates, render};
use mcp_core::schemas::{Kind, check_text};

#[test]
fn every_template_ships_a_valid_ci_file_with_its_commands() {
    let t = Templates::load(&crate::templates()).unwrap();
    let mut vars: BTreeMap<&str, String> = PROJECT_VARS.iter().map(|k| (*k, format!("x-{k}"))).collect();
    vars.insert("slug", "word-counter".into());
    vars.insert("toolchain_image", "mcp-fleet/toolchain:latest".into());
    for p in t.projects.values() {
        let (_, ci) = p
            .files
            .iter()
            .find(|(rel, _)| rel == ".gitlab-ci.yml")
            .unwrap_or_else(|| panic!("{} has no .gitlab-ci.yml", p.name));
        let text = render(ci, &vars).unwrap();
        let findings = check_text(&text, Kind::GitlabCi).unwrap();
        assert!(findings.is_empty(), "{}: {findings:?}", p.name);
        assert!(text.contains("image: mcp-fleet/toolchain:latest"), "{}", p.name);
        // The same commands as template.json (a long one may be folded over lines).
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (phase, cmds) in &p.manifest.commands {
            for argv in cmds {
                assert!(
                    flat.contains(&argv.join(" ")),
                    "{}: {phase} `{}` is not in the CI file",
                    p.name,
                    argv.join(" ")
                );
            }
        }
        // A service says how it is deployed, and ships the Dockerfile that builds it.
        assert_eq!(p.manifest.deploy.is_some(), p.manifest.kind == "service", "{}", p.name);
    }
}
