//! Configuration of `mcp-server-lint`: every variable it reads, fixed for the
//! life of the process.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Directories projects live in, separated by `,` or `:` (default `./projects`); `lint_run`'s
/// `path` is relative to the first.
pub const LINT_ROOTS: &str = "LINT_ROOTS";
/// Directories searched for the linters and given to them as `PATH` (default
/// `/usr/local/bin:/usr/bin:/bin`). Put a Rust toolchain's `bin` (with `cargo-clippy` and
/// `rustfmt`) and any virtualenv holding `ruff`/`hadolint` here; a `bin` folder's parent is
/// readable by the runs, so a toolchain finds its libraries.
pub const LINT_PATH: &str = "LINT_PATH";
/// Private state: spooled output, the runs' `HOME` and temporary directories (default a
/// directory under the system temp dir).
pub const LINT_DATA_DIR: &str = "LINT_DATA_DIR";
/// Kernel sandbox of every run (`on`, the default, or `off`). Linters execute project code
/// (flake8 and mypy plugins, cargo build scripts), so each run is confined by Landlock to the
/// roots, a private `HOME`, a scratch directory and read-only system directories; when this
/// machine lacks Landlock, runs are refused (and `/ready` says so) unless this is explicitly `off`.
pub const LINT_SANDBOX: &str = "LINT_SANDBOX";
/// Register `lint_format`, which rewrites project files with black, isort, ruff format or
/// rustfmt (default false).
pub const LINT_WRITE: &str = "LINT_WRITE";
/// Default time limit of each tool's run, seconds (default 300).
pub const LINT_TIMEOUT_SECS: &str = "LINT_TIMEOUT_SECS";
/// Largest `timeout_secs` a caller may ask for, seconds (default 1800).
pub const LINT_MAX_TIMEOUT_SECS: &str = "LINT_MAX_TIMEOUT_SECS";
/// Bytes of each stream of a run kept for parsing (default 64M; more is cut and the run is
/// reported as `error`, never as clean).
pub const LINT_MAX_OUTPUT_BYTES: &str = "LINT_MAX_OUTPUT_BYTES";
/// CPU seconds per process (default 900).
pub const LINT_LIMIT_CPU_SECS: &str = "LINT_LIMIT_CPU_SECS";
/// Address space per process (default 8G).
pub const LINT_LIMIT_MEMORY_BYTES: &str = "LINT_LIMIT_MEMORY_BYTES";
/// Processes per user, counted by the kernel (default 1024).
pub const LINT_LIMIT_PROCESSES: &str = "LINT_LIMIT_PROCESSES";
/// Largest file a process may write (default 2G).
pub const LINT_LIMIT_FILE_BYTES: &str = "LINT_LIMIT_FILE_BYTES";
/// Tool runs at once, across calls (default 4).
pub const LINT_MAX_PROCESSES: &str = "LINT_MAX_PROCESSES";
/// Further directories runs may read and execute from (toolchains outside `LINT_PATH`'s
/// prefixes).
pub const LINT_SANDBOX_READ: &str = "LINT_SANDBOX_READ";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Project roots.
    pub roots: Vec<PathBuf>,
    /// Search path of the tools.
    pub path: Vec<PathBuf>,
    /// Private state.
    pub data_dir: Option<PathBuf>,
    /// Runs are confined.
    pub sandbox: bool,
    /// `lint_format` is registered.
    pub write: bool,
    /// Default time limit per run.
    pub timeout: Duration,
    /// Largest time limit.
    pub max_timeout: Duration,
    /// Bytes kept per stream.
    pub max_output: usize,
    /// CPU seconds.
    pub cpu_secs: u64,
    /// Address space.
    pub memory: u64,
    /// Processes.
    pub processes: u64,
    /// File size.
    pub file_size: u64,
    /// Runs at once.
    pub max_processes: usize,
    /// Extra read+execute paths.
    pub sandbox_read: Vec<PathBuf>,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let mut roots = r.paths(LINT_ROOTS);
        if roots.is_empty() {
            roots.push(PathBuf::from("projects"));
        }
        let mut path = r.paths(LINT_PATH);
        if path.is_empty() {
            path = ["/usr/local/bin", "/usr/bin", "/bin"].iter().map(PathBuf::from).collect();
        }
        if let Some(rel) = path.iter().find(|p| !p.is_absolute()) {
            r.error(format!("{LINT_PATH}: {} is not absolute", rel.display()));
        }
        let timeout = r.secs(LINT_TIMEOUT_SECS, Duration::from_secs(300));
        let max_timeout = r.secs(LINT_MAX_TIMEOUT_SECS, Duration::from_secs(1800));
        if timeout > max_timeout {
            r.error(format!("{LINT_TIMEOUT_SECS} is larger than {LINT_MAX_TIMEOUT_SECS}"));
        }
        Self {
            roots,
            path,
            data_dir: r.optional(LINT_DATA_DIR).map(PathBuf::from),
            sandbox: r.bool(LINT_SANDBOX, true),
            write: r.bool(LINT_WRITE, false),
            timeout,
            max_timeout,
            max_output: r.bytes(LINT_MAX_OUTPUT_BYTES, 64 << 20),
            cpu_secs: r.parse(LINT_LIMIT_CPU_SECS, 900u64),
            memory: r.bytes(LINT_LIMIT_MEMORY_BYTES, 8 << 30) as u64,
            processes: r.parse(LINT_LIMIT_PROCESSES, 1024u64),
            file_size: r.bytes(LINT_LIMIT_FILE_BYTES, 2 << 30) as u64,
            max_processes: r.parse(LINT_MAX_PROCESSES, 4usize),
            sandbox_read: r.paths(LINT_SANDBOX_READ),
        }
    }

    /// Settings for tests: one root, a search path and a data directory.
    pub fn for_root(root: impl Into<PathBuf>, path: Vec<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut r = Reader::new(&env);
        let mut c = Self::read(&mut r);
        c.roots = vec![root.into()];
        c.path = path;
        c.data_dir = Some(data_dir.into());
        c
    }
}
