//! The binary, run as a user would.

use std::process::Command;

#[test]
fn greets_by_name() {
    let exe = env!("CARGO_BIN_EXE_{{slug}}");
    let out = Command::new(exe).arg("Ada").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, Ada!\n");
}

#[test]
fn prints_its_version() {
    let exe = env!("CARGO_BIN_EXE_{{slug}}");
    let out = Command::new(exe).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0.1.0"));
}
