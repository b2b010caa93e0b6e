//! Images that container tests run, built on the machine once and kept:
//! no registry is needed (the project's machines have none). Each starts
//! `FROM` the debootstrapped base `cargo xtask images --base-only` makes
//! (`cargo xtask test` makes it before the tests), and is built with the
//! legacy builder (no buildx on the project's machines).
//!
//! Building is idempotent (an image that `docker image inspect` finds is
//! kept) and serialised: within a process by a mutex, between processes
//! (test binaries run in parallel) by a lock on a file in the temporary
//! directory.

use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The debootstrapped Debian base every fleet image starts from.
pub const BASE_IMAGE: &str = "mcp-fleet/debian:bookworm";
/// Python 3 with venv, pip, pytest and flake8 from Debian, and user 10001:
/// what the Python templates' phases need, in a container.
pub const PYTHON_IMAGE: &str = "mcp-fleet-test/python:1";

const PYTHON_DOCKERFILE: &str = "\
FROM mcp-fleet/debian:bookworm
RUN apt-get update -qq \\
    && apt-get install -y -qq --no-install-recommends \\
        python3 python3-venv python3-pip python3-pytest flake8 \\
    && rm -rf /var/lib/apt/lists/* \\
    && groupadd --gid 10001 fleet \\
    && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \\
        --shell /usr/sbin/nologin fleet
ENV LANG=C.UTF-8
";

/// [`PYTHON_IMAGE`], built when missing. Panics (the test fails) when
/// Docker or the base image is not there, saying what to run.
pub fn python_image() -> String {
    ensure(PYTHON_IMAGE, PYTHON_DOCKERFILE);
    PYTHON_IMAGE.to_owned()
}

/// Whether the engine has `image`.
pub fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

static BUILDING: Mutex<()> = Mutex::new(());

fn ensure(image: &str, dockerfile: &str) {
    let _in_process = BUILDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if image_exists(image) {
        return;
    }
    let docker = Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]).output();
    assert!(docker.as_ref().is_ok_and(|o| o.status.success()), "the container tests need a Docker Engine: {docker:?}");
    assert!(image_exists(BASE_IMAGE), "{BASE_IMAGE} is missing: run `cargo xtask images --base-only`");
    let _between_processes = FileLock::acquire(image);
    if image_exists(image) {
        // Another test binary built it while this one waited.
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary build context");
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("the Dockerfile written");
    let out = Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "--quiet", "--tag", image])
        .arg(dir.path())
        .output()
        .expect("docker build starts");
    assert!(
        out.status.success(),
        "building {image} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An exclusive lock on a file named after the image, released when dropped
/// (and by the kernel when a build is killed).
struct FileLock(std::fs::File);

impl FileLock {
    fn acquire(image: &str) -> Self {
        let name: String = image.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let path = std::env::temp_dir().join(format!("mcp-fleet-image-{name}.lock"));
        let f = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        f.lock().unwrap_or_else(|e| panic!("locking {}: {e}", path.display()));
        Self(f)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
