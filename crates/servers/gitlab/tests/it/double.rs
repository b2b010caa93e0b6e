//! The GitLab double checked by an independent client: python-gitlab
//! (pinned in `tests/python/requirements.txt`, installed by `cargo xtask
//! test` into the fleet's virtualenv), written against the real GitLab API,
//! lists pipelines across pages, reads a job log, creates a pipeline, lints
//! CI files, downloads artifacts, comments on a merge request, and sees the
//! errors GitLab gives (401, 403, 404). If the double drifted from GitLab's
//! shapes, this client would fail where the server's tests might not.

use std::path::PathBuf;

use mcp_test::gitlab::{GitlabDouble, JobSpec, TOKEN};

use super::*;

/// The fleet's Python: `MCP_FLEET_PYTHON`, else the virtualenv `cargo xtask test` provisions.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("MCP_FLEET_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/mcp-fleet/venv/bin/python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_gitlab_accepts_the_double() {
    let py = python();
    assert!(
        py.exists(),
        "{} is missing: run `cargo xtask test`, which provisions the fleet's virtualenv from tests/python/requirements.txt \
         (or set MCP_FLEET_PYTHON to a Python with python-gitlab 8.6.0)",
        py.display()
    );
    let gl = GitlabDouble::start().await;
    gl.add_project(PROJECT_ID, PROJECT);
    gl.add_forbidden_project(9, "secret/app");
    for _ in 0..4 {
        gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build")]);
    }
    let failed =
        gl.add_pipeline(PROJECT_ID, "main", vec![failing_test_job().artifact("reports/junit.xml", b"<testsuite/>")]);
    gl.finish_all();
    let job = gl.jobs_of(failed)[0];
    let mr = gl.add_mr(PROJECT_ID, "feature", "main", "Feature", "");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/double_check.py");
    let url = gl.url();
    let out = tokio::process::Command::new(&py)
        .arg(&script)
        .args([url.as_str(), TOKEN, &job.to_string(), &mr.to_string()])
        .output()
        .await
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        !text.contains("No module named 'gitlab'"),
        "python-gitlab is not installed in {}: run `cargo xtask test` (tests/python/requirements.txt)",
        py.display()
    );
    assert!(out.status.success(), "python-gitlab against the double failed:\n{text}");
    assert!(text.contains("python-gitlab: all checks passed"), "{text}");
    // python-gitlab's pipeline creation reached the double.
    assert!(gl.seen().iter().any(|s| s.method == "POST" && s.path.ends_with("/pipeline") && s.status == 201));
}
