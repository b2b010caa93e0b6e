//! The real binary: configuration errors exit 64 with every problem listed.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-git");

#[test]
fn bad_configuration_exits_64_listing_every_problem() {
    let out = Command::new(BIN)
        .env_clear()
        .env("GIT_ROOTS", "/")
        .env("GIT_ALLOWED_REMOTE_SCHEMES", "https,ftp")
        .env("GIT_NETWORK_TIMEOUT_SECS", "soon")
        .env("GIT_AUTHOR_NAME", "x")
        .env("LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let e = String::from_utf8_lossy(&out.stderr);
    for needle in ["GIT_ALLOWED_REMOTE_SCHEMES", "GIT_NETWORK_TIMEOUT_SECS", "GIT_AUTHOR_EMAIL", "LOG_FORMAT"] {
        assert!(e.contains(needle), "{needle} not reported: {e}");
    }
}

#[test]
fn a_missing_root_exits_64() {
    let out = Command::new(BIN).env_clear().env("GIT_ROOTS", "/definitely/not/here").output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GIT_ROOTS"));
}
