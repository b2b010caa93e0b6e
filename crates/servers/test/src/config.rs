//! Configuration of `mcp-server-test`: every variable it reads. Names and
//! defaults of the run limits follow the shell server's, because both run
//! project code through the same job runner (`mcp_core::jobs`).

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Directories projects live in, separated by `,` or `:` (default `./projects`). A tool's `path` is
/// relative to the first.
pub const TEST_ROOTS: &str = "TEST_ROOTS";
/// Directories searched for test tools (python3, cargo, cargo-nextest) and given to runs as `PATH`
/// (default `/usr/local/bin:/usr/bin:/bin`). A toolchain's `bin` folder here makes its prefix readable.
pub const TEST_PATH: &str = "TEST_PATH";
/// Private state: output spools, scratch directories, the runs' `HOME`, and the default SQLite file
/// (default `./.data/test`). Must lie outside the roots.
pub const TEST_DATA_DIR: &str = "TEST_DATA_DIR";
/// Where runs and per-test results are stored: `sqlite:PATH` (default `sqlite:<TEST_DATA_DIR>/test.db`)
/// or `postgres://...`.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";
/// Kernel sandbox of every run (`on`, the default, or `off`). On, runs are confined by Landlock to the
/// roots, a private `HOME`, the run's scratch directory and read-only system directories; when this
/// machine lacks Landlock, runs are refused (and `/ready` says so) unless this is `off`.
pub const TEST_SANDBOX: &str = "TEST_SANDBOX";
/// Further directories runs may read and execute from (toolchains outside the system directories).
pub const TEST_SANDBOX_READ: &str = "TEST_SANDBOX_READ";
/// TCP for test runs (`true`, the default, or `false`). The tests of a service start it on a
/// loopback port and call it; Landlock's TCP rules name ports, not addresses, so they cannot allow
/// loopback alone: on, a test may open any connection (as a shell job may); off, every `bind` and
/// `connect` is refused and service tests fail. `/ready` says which.
pub const TEST_NETWORK: &str = "TEST_NETWORK";
/// Default time limit of a whole run, seconds (default 600).
pub const TEST_TIMEOUT_SECS: &str = "TEST_TIMEOUT_SECS";
/// Largest time limit a caller may ask for, seconds (default 3600).
pub const TEST_MAX_TIMEOUT_SECS: &str = "TEST_MAX_TIMEOUT_SECS";
/// Bytes of each stream kept in memory for results (default 64K; the rest is paged with `test_output`).
pub const TEST_MAX_OUTPUT_BYTES: &str = "TEST_MAX_OUTPUT_BYTES";
/// Bytes of each stream kept on disk per process (default 16M; beyond it output is dropped and counted).
pub const TEST_MAX_SPOOL_BYTES: &str = "TEST_MAX_SPOOL_BYTES";
/// CPU seconds per process (default 900).
pub const TEST_LIMIT_CPU_SECS: &str = "TEST_LIMIT_CPU_SECS";
/// Address space per process (default 8G).
pub const TEST_LIMIT_MEMORY_BYTES: &str = "TEST_LIMIT_MEMORY_BYTES";
/// Processes per user, counted by the kernel (default 1024).
pub const TEST_LIMIT_PROCESSES: &str = "TEST_LIMIT_PROCESSES";
/// Largest file a process may write (default 2G).
pub const TEST_LIMIT_FILE_BYTES: &str = "TEST_LIMIT_FILE_BYTES";
/// Runs at once (default 4): a test suite uses every core it gets.
pub const TEST_MAX_PROCESSES: &str = "TEST_MAX_PROCESSES";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Project roots.
    pub roots: Vec<PathBuf>,
    /// Search path of the tools.
    pub path: Vec<PathBuf>,
    /// Private state.
    pub data_dir: PathBuf,
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// Runs confined by Landlock.
    pub sandbox: bool,
    /// Extra read-only paths of the sandbox.
    pub sandbox_read: Vec<PathBuf>,
    /// Test runs may use TCP.
    pub network: bool,
    /// Default run time limit.
    pub timeout: Duration,
    /// Largest run time limit.
    pub max_timeout: Duration,
    /// Bytes of each stream kept in memory.
    pub max_output: usize,
    /// Bytes of each stream kept on disk.
    pub max_spool: u64,
    /// CPU seconds per process.
    pub cpu_secs: u64,
    /// Address space per process.
    pub memory: u64,
    /// Processes per user.
    pub processes: u64,
    /// Largest file.
    pub file_size: u64,
    /// Runs at once.
    pub max_processes: usize,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let mut roots = r.paths(TEST_ROOTS);
        if roots.is_empty() {
            roots.push(PathBuf::from("projects"));
        }
        let mut path = r.paths(TEST_PATH);
        if path.is_empty() {
            path = ["/usr/local/bin", "/usr/bin", "/bin"].iter().map(PathBuf::from).collect();
        }
        if let Some(rel) = path.iter().find(|p| !p.is_absolute()) {
            r.error(format!("{TEST_PATH}: {} is not absolute", rel.display()));
        }
        let data_dir = PathBuf::from(r.string(TEST_DATA_DIR, "./.data/test"));
        let default_url = format!("sqlite:{}", data_dir.join("test.db").display());
        let timeout = r.secs(TEST_TIMEOUT_SECS, Duration::from_secs(600));
        let max_timeout = r.secs(TEST_MAX_TIMEOUT_SECS, Duration::from_secs(3600));
        if timeout > max_timeout {
            r.error(format!("{TEST_TIMEOUT_SECS} is larger than {TEST_MAX_TIMEOUT_SECS}"));
        }
        Self {
            roots,
            path,
            database_url: r.string(TEST_DATABASE_URL, &default_url),
            data_dir,
            sandbox: r.bool(TEST_SANDBOX, true),
            sandbox_read: r.paths(TEST_SANDBOX_READ),
            network: r.bool(TEST_NETWORK, true),
            timeout,
            max_timeout,
            max_output: r.bytes(TEST_MAX_OUTPUT_BYTES, 64 << 10),
            max_spool: r.bytes(TEST_MAX_SPOOL_BYTES, 16 << 20) as u64,
            cpu_secs: r.parse(TEST_LIMIT_CPU_SECS, 900u64),
            memory: r.bytes(TEST_LIMIT_MEMORY_BYTES, 8 << 30) as u64,
            processes: r.parse(TEST_LIMIT_PROCESSES, 1024u64),
            file_size: r.bytes(TEST_LIMIT_FILE_BYTES, 2 << 30) as u64,
            max_processes: r.parse(TEST_MAX_PROCESSES, 4usize),
        }
    }

    /// Settings for tests: one root, a data directory, a database URL and a `PATH`.
    pub fn for_root(root: impl Into<PathBuf>, data_dir: impl Into<PathBuf>, url: &str, path: &str) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut c = Self::read(&mut Reader::new(&env));
        c.roots = vec![root.into()];
        c.data_dir = data_dir.into();
        c.database_url = url.to_owned();
        c.path = path.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect();
        c
    }
}
