//! A real Docker Engine for tests: the one image the docker server's tests
//! run, and cleanup of everything a test instance made.
//!
//! The project's machines have an engine but no registry, so nothing can be
//! pulled. [`busybox_image`] makes `mcp-fleet-test/busybox:1` once per machine
//! by `docker import` of a root holding Debian's static busybox
//! (`busybox-static`, `/bin/busybox`) with its applets as symlinks, a
//! `nobody` user, a world-writable `/tmp` and `/www/index.html` (so `httpd
//! -f -p 8080 -h /www` answers 200). Every test uses its own instance label
//! value and removes what carries it with [`cleanup`], through a [`Guard`]
//! so it happens even when the test fails.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The label every object the docker server makes carries; its value is the
/// server's instance name.
pub const MANAGED_BY: &str = "io.mcp-fleet.managed-by";

/// The test image's reference.
pub const BUSYBOX_IMAGE: &str = "mcp-fleet-test/busybox:1";

/// The applets linked in the test image.
const APPLETS: &[&str] = &[
    "sh", "ash", "httpd", "wget", "sleep", "cat", "echo", "ls", "id", "nc", "env", "printf", "true", "false", "test",
    "grep", "head", "tail", "mkdir", "rm", "touch", "pwd", "whoami", "hostname", "ps", "kill", "date", "wc", "seq",
    "timeout", "yes", "sed", "tr", "uname", "nslookup", "ping", "stat", "readlink",
];

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("docker {args:?}: {e} (is the Docker CLI installed?)"))
}

/// `mcp-fleet-test/busybox:1`, imported on first use (once per process, and
/// under a file lock across processes; an existing image is kept).
///
/// # Panics
/// When `/bin/busybox` is missing (`apt-get install busybox-static`, or
/// `cargo xtask test`, which provisions it) or the engine refuses the import.
pub fn busybox_image() -> String {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let lock_path = std::env::temp_dir().join("mcp-fleet-test-busybox.lock");
        let lock = std::fs::File::create(&lock_path).expect("lock file");
        lock.lock().expect("lock");
        if !docker(&["image", "inspect", BUSYBOX_IMAGE]).status.success() {
            import_busybox();
        }
        let _ = lock.unlock();
    });
    BUSYBOX_IMAGE.to_owned()
}

fn import_busybox() {
    let busybox = Path::new("/bin/busybox");
    assert!(busybox.exists(), "/bin/busybox is missing: apt-get install busybox-static (cargo xtask test does)");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    for d in ["bin", "etc", "tmp", "www", "data"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).expect("symlink");
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").expect("group");
    std::fs::write(root.join("www/index.html"), "busybox ok\n").expect("index");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).expect("chmod tmp");
    let tar = dir.path().join("root.tar");
    let st = Command::new("tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar of the busybox root failed");
    let tar = tar.to_string_lossy().into_owned();
    let out = docker(&["import", "--change", "CMD [\"/bin/sh\"]", &tar, BUSYBOX_IMAGE]);
    assert!(out.status.success(), "docker import: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh instance name for one test: `t-<what>-<pid>-<n>`.
pub fn instance(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Remove every container, network, volume and image labelled
/// `io.mcp-fleet.managed-by=<instance>`, and the networks whose name starts
/// with `<instance>-` (compose's default network of a project the server
/// named). Errors are ignored: this runs from `Drop`.
pub fn cleanup(instance: &str) {
    let filter = format!("label={MANAGED_BY}={instance}");
    let ids = |args: &[&str]| -> Vec<String> {
        String::from_utf8_lossy(&docker(args).stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let containers = ids(&["ps", "-aq", "--filter", &filter]);
    if !containers.is_empty() {
        let mut a = vec!["rm", "-f", "-v"];
        a.extend(containers.iter().map(String::as_str));
        docker(&a);
    }
    let mut networks = ids(&["network", "ls", "-q", "--filter", &filter]);
    let prefix = format!("{instance}-");
    networks.extend(ids(&["network", "ls", "--format", "{{.Name}}"]).into_iter().filter(|n| n.starts_with(&prefix)));
    for n in networks {
        docker(&["network", "rm", &n]);
    }
    for v in ids(&["volume", "ls", "-q", "--filter", &filter]) {
        docker(&["volume", "rm", "-f", &v]);
    }
    for i in ids(&["image", "ls", "-q", "--filter", &filter]) {
        docker(&["image", "rm", "-f", &i]);
    }
}

/// Runs [`cleanup`] for its instance when dropped (also when a test panics).
#[derive(Debug)]
pub struct Guard(pub String);

impl Guard {
    /// A guard over a fresh [`instance`] name.
    pub fn new(what: &str) -> Self {
        Self(instance(what))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        cleanup(&self.0);
    }
}
