//! Real services for tests, started on demand from the installed binaries.
//!
//! **PostgreSQL**: one private cluster per test process, on a free loopback
//! port, in a temporary directory, trusting loopback connections; each call to
//! [`postgres_url`] creates a fresh database in it so tests never share state.
//! When the tests run as root the server runs as the `postgres` user (it
//! refuses root). The cluster is started under a small `sh` watchdog whose
//! stdin is a pipe from this process: when the test process exits for any
//! reason the pipe closes and the watchdog stops the server and removes its
//! directory, so no cluster outlives its tests.
//!
//! `cargo xtask test` installs the packages; when they are missing the
//! fixture fails with the remedy rather than skipping.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running PostgreSQL cluster.
pub struct Postgres {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Superuser name.
    pub user: String,
    _dir: PathBuf,
    _watchdog: Mutex<(Child, ChildStdin)>,
}

static POSTGRES: OnceLock<Postgres> = OnceLock::new();
static DB_COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn pg_bin() -> PathBuf {
    for v in ["17", "16", "15", "14", "13"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        if p.join("postgres").exists() {
            return p;
        }
    }
    panic!(
        "PostgreSQL server binaries not found under /usr/lib/postgresql: `cargo xtask test` installs the postgresql package"
    );
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// uid and gid of a user, from `id`.
fn ids(user: &str) -> Option<(u32, u32)> {
    let uid = Command::new("id").args(["-u", user]).output().ok()?;
    let gid = Command::new("id").args(["-g", user]).output().ok()?;
    Some((
        String::from_utf8_lossy(&uid.stdout).trim().parse().ok()?,
        String::from_utf8_lossy(&gid.stdout).trim().parse().ok()?,
    ))
}

fn as_service_user(cmd: &mut Command, owner: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(55432)
}

impl Postgres {
    fn start() -> Self {
        let bin = pg_bin();
        let dir = std::env::temp_dir().join(format!("mcp-test-pg-{}-{}", std::process::id(), free_port()));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).expect("create the PostgreSQL directory");
        let owner = if is_root() {
            Some(ids("postgres").expect("the postgres user (from the postgresql package)"))
        } else {
            None
        };
        if let Some((uid, gid)) = owner {
            let st = Command::new("chown").arg(format!("{uid}:{gid}")).arg(&dir).status().expect("chown");
            assert!(st.success(), "chown of {} failed", dir.display());
        }
        let user = "fleet".to_owned();
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args(["-D"])
            .arg(&data)
            .args(["-U", &user, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        as_service_user(&mut initdb, owner);
        let out = initdb.output().expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        // The watchdog: start the server, wait for stdin to close, stop it.
        let script = format!(
            "'{pg}' -D '{data}' -p {port} -k '{sock}' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300 -c log_min_messages=warning > '{log}' 2>&1 & \
             pid=$!; cat > /dev/null; kill -INT $pid; wait $pid; rm -rf '{dir}'",
            pg = bin.join("postgres").display(),
            data = data.display(),
            sock = dir.display(),
            log = dir.join("postgres.log").display(),
            dir = dir.display()
        );
        let mut sh = Command::new("/bin/sh");
        sh.arg("-c").arg(script).current_dir(&dir).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
        as_service_user(&mut sh, owner);
        let mut child = sh.spawn().expect("start postgres");
        let stdin = child.stdin.take().expect("watchdog stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready =
                Command::new(bin.join("pg_isready")).args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"]).status();
            if ready.is_ok_and(|s| s.success()) {
                break;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
                panic!("PostgreSQL did not start on port {port}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { port, user, _dir: dir, _watchdog: Mutex::new((child, stdin)) }
    }

    /// The shared cluster of this test process.
    pub fn shared() -> &'static Postgres {
        POSTGRES.get_or_init(Self::start)
    }

    /// Create a new empty database and return its URL.
    pub fn create_database(&self) -> String {
        let n = DB_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        let out = Command::new(pg_bin().join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", &self.user, "-d", "postgres", "-qc"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        assert!(out.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&out.stderr));
        format!("postgres://{}@127.0.0.1:{}/{name}", self.user, self.port)
    }
}

/// A fresh PostgreSQL database URL (the cluster starts on first use).
pub fn postgres_url() -> String {
    Postgres::shared().create_database()
}

/// A fresh SQLite database URL in `dir`.
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(format!("{name}.db")).display())
}

/// Both backends, for tests that must pass on each: `(label, url)`.
pub fn both_backends(dir: &Path, name: &str) -> Vec<(&'static str, String)> {
    vec![("sqlite", sqlite_url(dir, name)), ("postgres", postgres_url())]
}
