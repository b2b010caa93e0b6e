//! Provisioning for tests on a fresh Debian machine: system packages through
//! apt (only what is missing), and a Python virtualenv with the official MCP
//! SDK kept in the cache directory so CI reuses it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::bail;

use crate::util::{cache_dir, have, output, run};

/// What the tests need from the system: `(command or absolute path that proves
/// it is there, Debian package)`. A later issue that needs a new service adds
/// its line here.
const PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/python3", "python3"),
    ("git", "git"),
    ("curl", "curl"),
    // The shell server's remote-host tests talk to a real sshd on loopback.
    ("/usr/sbin/sshd", "openssh-server"),
    ("ssh-keygen", "openssh-client"),
    // mcp-test starts a private PostgreSQL cluster for the storage tests.
    ("/usr/lib/postgresql", "postgresql"),
    // The observer's tests: promtool and a real Prometheus, shellcheck for
    // scripts/, PyYAML for reading Grafana's provisioning files.
    ("promtool", "prometheus"),
    ("shellcheck", "shellcheck"),
    ("/usr/lib/python3/dist-packages/yaml", "python3-yaml"),
    // What the project templates build, lint and test with: TEMPLATE_PACKAGES,
    // which `system_packages` installs too.
    // A real mail server on loopback for the email tests: Dovecot (IMAP,
    // LMTP) and Postfix (SMTP), started privately by the tests; openssl makes
    // the certificates of the TLS tests.
    ("/usr/sbin/dovecot", "dovecot-imapd"),
    ("/usr/lib/dovecot/lmtp", "dovecot-lmtpd"),
    ("/usr/sbin/postfix", "postfix"),
    ("openssl", "openssl"),
    // `cargo xtask images` makes the fleet's base image with debootstrap
    // (no registry on the project's machines; see images.rs).
    ("/usr/sbin/debootstrap", "debootstrap"),
    // The gateway's web UI is tested in a real browser: Debian's Chromium,
    // headless (its screenshots and DOM dumps are what the UI tests assert on).
    ("chromium", "chromium"),
    // The docker server's tests run containers from `mcp-fleet-test/busybox:1`,
    // made with `docker import` of the static busybox (no registry to pull from).
    ("/bin/busybox", "busybox-static"),
];

/// What the offered project templates build, lint and test with, through
/// `mcp-server-shell`, `mcp-server-lint` and `mcp-server-test` (whose `PATH`
/// is the Rust toolchain, /usr/local/bin, /usr/bin, /bin): the system Python
/// with venv, pytest, flake8 and coverage.py, and git; and the other linters
/// the lint server runs where a project asks for them (black, isort, mypy,
/// bandit, yamllint, shellcheck). `cargo xtask up` installs what is missing,
/// so the first project on a machine that never ran `cargo xtask test`
/// builds.
const TEMPLATE_PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/python3", "python3"),
    ("/usr/lib/python3/dist-packages/pytest", "python3-pytest"),
    ("/usr/lib/python3/dist-packages/flake8", "flake8"),
    ("/usr/lib/python3/dist-packages/coverage", "python3-coverage"),
    ("/usr/lib/python3/dist-packages/black", "black"),
    ("/usr/lib/python3/dist-packages/isort", "isort"),
    ("/usr/lib/python3/dist-packages/mypy", "mypy"),
    ("/usr/lib/python3/dist-packages/bandit", "bandit"),
    ("/usr/lib/python3/dist-packages/yamllint", "yamllint"),
    ("shellcheck", "shellcheck"),
    ("git", "git"),
];

/// The linters Debian does not package (ruff, hadolint), from PyPI into a
/// virtualenv in the cache (`{cache}/lint-tools`, on the lint server's `PATH`
/// under `cargo xtask up` and in its tests). Reinstalled only when the pins
/// in `crates/servers/lint/tests/tools.txt` change.
pub fn lint_tools(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = cache_dir().join("lint-tools");
    let req = root.join("crates/servers/lint/tests/tools.txt");
    // The stamp names how the virtualenv is made too, so a change there remakes it.
    let wanted = format!("--system-site-packages\n{}", std::fs::read_to_string(&req)?);
    let stamp = dir.join(".requirements");
    if dir.join("bin/python").exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(dir);
    }
    std::fs::create_dir_all(cache_dir())?;
    // It sees Debian's packages: its `python3` comes first on the lint
    // server's PATH, and a project's tools found through it must be there.
    run(Command::new("/usr/bin/python3").args(["-m", "venv", "--clear", "--system-site-packages"]).arg(&dir))?;
    run(Command::new(dir.join("bin/pip")).args(["install", "-q", "-r"]).arg(&req))?;
    std::fs::write(stamp, wanted)?;
    Ok(dir)
}

/// Make sure the project templates' tools are here (see [`TEMPLATE_PACKAGES`]),
/// and the Rust components the Rust templates lint with.
pub fn template_tools() -> anyhow::Result<()> {
    let mut missing: Vec<&str> =
        TEMPLATE_PACKAGES.iter().filter(|(check, _)| !present(check)).map(|(_, pkg)| *pkg).collect();
    let venv = Command::new("/usr/bin/python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv {
        missing.push("python3-venv");
    }
    if !missing.is_empty() {
        eprintln!("the project templates need {missing:?}; installing");
        apt(&missing).map_err(|e| {
            anyhow::anyhow!(
                "{e}
the project templates need these Debian packages: {}; install them (apt-get install {}) \
                 and run `cargo xtask up` again",
                missing.join(", "),
                missing.join(" ")
            )
        })?;
    }
    for component in ["clippy", "rustfmt"] {
        let tool = if component == "clippy" { "clippy" } else { "fmt" };
        if !Command::new("cargo").args([tool, "--version"]).output().is_ok_and(|o| o.status.success()) {
            eprintln!("the Rust templates lint with {component}; installing it");
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

fn present(check: &str) -> bool {
    if check.starts_with('/') { std::path::Path::new(check).exists() } else { have(check) }
}

/// Install the missing packages.
pub fn system_packages() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = PACKAGES.iter().filter(|(check, _)| !present(check)).map(|(_, pkg)| *pkg).collect();
    for (check, pkg) in TEMPLATE_PACKAGES {
        if !present(check) && !missing.contains(pkg) {
            missing.push(pkg);
        }
    }
    if !python_has_venv() {
        // Debian splits venv out of the interpreter.
        return apt(&["python3-venv"]).and_then(|()| if missing.is_empty() { Ok(()) } else { apt(&missing) });
    }
    if missing.is_empty() {
        eprintln!("all system packages present");
        return Ok(());
    }
    apt(&missing)
}

fn python_has_venv() -> bool {
    Command::new("python3").args(["-c", "import venv, ensurepip"]).output().is_ok_and(|o| o.status.success())
}

/// `apt-get install` as root, or through sudo.
pub fn apt(pkgs: &[&str]) -> anyhow::Result<()> {
    let root = output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false);
    let prefix: Vec<&str> = if root {
        vec![]
    } else if have("sudo") {
        vec!["sudo", "-n"]
    } else {
        bail!("need root or sudo to install {pkgs:?}");
    };
    let mut update = prefix.clone();
    update.extend(["apt-get", "update", "-qq"]);
    run(Command::new(update[0]).args(&update[1..]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    let mut install = prefix;
    install.extend(["apt-get", "install", "-y", "-qq", "--no-install-recommends"]);
    install.extend(pkgs);
    run(Command::new(install[0]).args(&install[1..]).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The virtualenv with `tests/python/requirements.txt` installed; reinstalls
/// only when the requirements change.
pub fn venv(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = cache_dir().join("venv");
    let req = root.join("tests/python/requirements.txt");
    let wanted = std::fs::read_to_string(&req)?;
    let stamp = dir.join(".requirements");
    if dir.join("bin/python").exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        eprintln!("virtualenv up to date at {}", dir.display());
        return Ok(dir);
    }
    std::fs::create_dir_all(cache_dir())?;
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&dir))?;
    run(Command::new(dir.join("bin/pip")).args(["install", "-q", "--upgrade", "pip"]))?;
    run(Command::new(dir.join("bin/pip")).args(["install", "-q", "-r"]).arg(&req))?;
    std::fs::write(stamp, wanted)?;
    Ok(dir)
}
