//! The command policy: which programs may run, with which arguments and which
//! environment. Built once at start-up from configuration and never changed.
//!
//! The model is an allow-list of programs resolved to canonical absolute paths
//! at start-up. A command is allowed when its `argv[0]`, resolved the same way
//! (through the policy's fixed `PATH`, never the caller's, and through every
//! symlink), is one of those paths. The rules that apply to its arguments are
//! chosen by what the program *is* (the allowed entry it resolved to), not by
//! the name it was called by, so a symlink named `ls` that points to Python is
//! treated as Python. On top of the program allow-list:
//!
//! - every argument is refused when it carries shell syntax (`$(`, backticks,
//!   `<(`, `${`) or line breaks: commands run without a shell, so such text is
//!   either a mistake or an attempt;
//! - programs that run other programs (`find -exec`, `xargs`, `env`, `git -c`,
//!   `tar --to-command`, `rsync -e`, interpreters' `-c`/`-e`...) get their
//!   exec-capable options refused, and pure program runners (`env`, `xargs`,
//!   `sudo`, `timeout`...) cannot be allowed at all;
//! - interpreters are refused unless configured, and then only with a script
//!   file or an allow-listed module, never inline code;
//! - subcommand allow-lists for git (read-only), cargo, npm and pip;
//! - the caller's environment variables must be on an allow-list that can
//!   never include variables that choose the program or inject code (`PATH`,
//!   `LD_PRELOAD`, `NODE_OPTIONS`...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Programs that exist to run other programs: allowing any of them would
/// void the allow-list, so configuration naming them is refused.
pub const RUNNERS: &[&str] = &[
    "env",
    "xargs",
    "sudo",
    "su",
    "doas",
    "nohup",
    "timeout",
    "nice",
    "ionice",
    "chroot",
    "setsid",
    "stdbuf",
    "strace",
    "ltrace",
    "gdb",
    "script",
    "watch",
    "flock",
    "parallel",
    "busybox",
    "runuser",
    "unshare",
    "nsenter",
    "systemd-run",
    "chrt",
    "taskset",
    "time",
    "exec",
    "eval",
    "command",
    "builtin",
    "at",
    "batch",
    "crontab",
    "ssh",
    "scp",
    "sftp",
    "socat",
    "nc",
    "ncat",
    "netcat",
    "telnet",
];

/// Interpreters: refused unless listed in `SHELL_INTERPRETERS`.
pub const INTERPRETERS: &[&str] = &[
    "python", "python3", "node", "nodejs", "perl", "ruby", "php", "sh", "bash", "dash", "zsh", "ksh", "fish", "lua",
    "Rscript", "tclsh", "awk", "gawk", "mawk",
];

/// Environment variables that can never be allowed for callers: they choose
/// which program runs or inject code into it.
pub const ENV_NEVER: &[&str] = &[
    "PATH",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONSTARTUP",
    "GEM_PATH",
    "GEM_HOME",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PYTHONEXECUTABLE",
    // Search paths: a directory early on them shadows any module the
    // interpreter or a test runner imports (`sitecustomize`, `conftest`...).
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PERLLIB",
    "PERL5DB",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "BASH_ENV",
    "ENV",
    "SHELL",
    "SHELLOPTS",
    "IFS",
    "PS4",
    "PROMPT_COMMAND",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_TEMPLATE_DIR",
    "GIT_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "npm_config_node_options",
    "npm_config_script_shell",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "GIT_PAGER",
    "MAKEFLAGS",
    "MAKESHELL",
    "RUSTC_WRAPPER",
    "RUSTC",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "HOME",
    "TMPDIR",
];

/// Prefixes of variables that can never be allowed: the dynamic loader's
/// (`LD_*`, `DYLD_*`) and git's configuration injection (`GIT_CONFIG_*`).
pub const NEVER_PREFIXES: &[&str] = &["LD_", "DYLD_", "GIT_CONFIG"];

/// The `build` preset: what building and testing Python, Rust and Node
/// projects needs, plus harmless basics. Programs missing on the machine are
/// skipped at start-up.
pub const PRESET_BUILD: &[&str] = &[
    "python3", "python", "pip", "pip3", "pytest", "flake8", "black", "isort", "ruff", "mypy", "cargo", "rustc",
    "rustfmt", "npm", "make", "git", "true", "false", "echo", "printf", "pwd", "ls", "cat", "head", "tail", "wc",
    "sort", "uniq", "diff", "grep", "find", "tar", "sleep", "date", "uname", "mkdir", "touch", "cp", "mv",
];

/// Interpreters the `build` preset allows by default.
pub const PRESET_INTERPRETERS: &[&str] = &["python3", "python"];

/// The `minimal` preset.
pub const PRESET_MINIMAL: &[&str] = &["true", "false", "echo", "printf", "pwd", "ls", "sleep", "date"];

/// Python modules `python -m` may run.
pub const PYTHON_MODULES: &[&str] = &[
    "pip",
    "pytest",
    "venv",
    "unittest",
    "flake8",
    "black",
    "isort",
    "ruff",
    "mypy",
    "build",
    "compileall",
    "py_compile",
    "pyflakes",
    "pycodestyle",
    "coverage",
    "ensurepip",
    "wheel",
    "pylint",
    "bandit",
];

/// git subcommands allowed through the shell (read-only: versioning goes through the git server).
pub const GIT_SUBCOMMANDS: &[&str] = &[
    "status",
    "log",
    "diff",
    "show",
    "rev-parse",
    "ls-files",
    "branch",
    "describe",
    "blame",
    "shortlog",
    "tag",
    "remote",
    "rev-list",
    "cat-file",
    "--version",
    "version",
];

/// cargo subcommands allowed.
pub const CARGO_SUBCOMMANDS: &[&str] = &[
    "build",
    "b",
    "check",
    "c",
    "test",
    "t",
    "run",
    "r",
    "fmt",
    "clippy",
    "doc",
    "new",
    "init",
    "metadata",
    "tree",
    "clean",
    "bench",
    "fetch",
    "generate-lockfile",
    "update",
    "add",
    "remove",
    "version",
    "--version",
    "-V",
];

/// npm subcommands allowed.
pub const NPM_SUBCOMMANDS: &[&str] = &[
    "install",
    "i",
    "ci",
    "test",
    "t",
    "run",
    "run-script",
    "init",
    "ls",
    "list",
    "audit",
    "version",
    "--version",
    "-v",
    "outdated",
    "pack",
];

/// pip subcommands allowed.
pub const PIP_SUBCOMMANDS: &[&str] =
    &["install", "uninstall", "list", "show", "freeze", "check", "download", "wheel", "--version", "-V"];

/// Caller environment variables allowed by default.
pub const ENV_ALLOW_DEFAULT: &[&str] = &[
    "CI",
    "NO_COLOR",
    "TERM",
    "LANG",
    "LC_ALL",
    "TZ",
    "RUST_BACKTRACE",
    "RUST_LOG",
    "CARGO_TERM_COLOR",
    "CARGO_INCREMENTAL",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_NO_INPUT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "NODE_ENV",
    "npm_config_loglevel",
    "VIRTUAL_ENV",
];

/// What kind of program an allowed entry is: it selects the argument rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No special rules.
    Plain,
    /// Python: no `-c`, `-m` only for allowed modules, no interactive mode.
    Python,
    /// Node: no `-e`/`-p`/`--require`/`--import`/loaders/inspector.
    Node,
    /// POSIX shells: no `-c`, no interactive mode.
    Shell,
    /// perl, ruby, php, lua...: no inline code options.
    OtherInterpreter,
    /// find: no -exec/-execdir/-ok/-okdir/-delete/-fprint*.
    Find,
    /// git: read-only subcommands, no global options, no exec-capable options.
    Git,
    /// tar: no command-running options.
    Tar,
    /// rsync: no remote-shell options.
    Rsync,
    /// cargo: subcommand allow-list, no `--config`/`-Z`.
    Cargo,
    /// npm: subcommand allow-list, no `--script-shell`.
    Npm,
    /// pip: subcommand allow-list.
    Pip,
    /// make: no `SHELL=` override, no `--eval`.
    Make,
    /// awk: programs are code; only script files (`-f`).
    Awk,
    /// sort: no `--compress-program`.
    Sort,
}

impl Kind {
    /// The rules for a program known by `name` (the basename it was allowed as).
    pub fn of(name: &str) -> Self {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match base {
            "python" => Self::Python,
            "node" | "nodejs" => Self::Node,
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "fish" => Self::Shell,
            "perl" | "ruby" | "php" | "lua" | "Rscript" | "tclsh" => Self::OtherInterpreter,
            "awk" | "gawk" | "mawk" => Self::Awk,
            "find" => Self::Find,
            "git" => Self::Git,
            "tar" => Self::Tar,
            "rsync" => Self::Rsync,
            "cargo" => Self::Cargo,
            "npm" => Self::Npm,
            "pip" => Self::Pip,
            "make" | "gmake" => Self::Make,
            "sort" => Self::Sort,
            _ => Self::Plain,
        }
    }
}

/// An allowed program.
#[derive(Debug, Clone)]
pub struct Program {
    /// The name it was allowed as (`python3`).
    pub name: String,
    /// Its canonical path.
    pub path: PathBuf,
    /// Its argument rules.
    pub kind: Kind,
}

/// A refused command, with the reason the model reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial(pub String);

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn deny<T>(msg: impl Into<String>) -> Result<T, Denial> {
    Err(Denial(msg.into()))
}

/// The policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Directories searched for bare program names, in order (also the children's `PATH`).
    pub path: Vec<PathBuf>,
    /// Allowed programs by canonical path.
    pub programs: BTreeMap<PathBuf, Program>,
    /// Interpreters allowed.
    pub interpreters: BTreeSet<String>,
    /// Caller environment variables allowed (exact names, or prefixes ending in `*`).
    pub env_allow: Vec<String>,
}

/// A command that passed the policy.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The canonical program path to execute.
    pub exe: PathBuf,
    /// The allowed entry's name.
    pub name: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// `argv[0]` as the child sees it, when it is not `exe`. Set only for
    /// Python called by a path (`.venv/bin/python`): CPython finds its
    /// virtualenv from `argv[0]`, while the file executed stays the
    /// canonical, allowed interpreter. Other programs always get `exe`, so a
    /// multi-call binary cannot be turned into something else by its name.
    pub arg0: Option<String>,
}

impl Checked {
    /// What the job runner executes.
    pub fn program(self) -> mcp_core::jobs::Program {
        mcp_core::jobs::Program { exe: self.exe, arg0: self.arg0, args: self.args }
    }
}

/// Build a policy. `names` are the allowed programs (names looked up on
/// `path`, or absolute paths); `interpreters` those of them allowed as
/// interpreters. Returns the policy and the names that were not found.
pub fn build(
    path: Vec<PathBuf>,
    names: &[String],
    interpreters: &[String],
    env_allow: Vec<String>,
) -> Result<(Policy, Vec<String>), Vec<String>> {
    let mut errors = Vec::new();
    let mut missing = Vec::new();
    let mut programs = BTreeMap::new();
    let interp: BTreeSet<String> = interpreters.iter().cloned().collect();
    for n in names {
        let base = Path::new(n).file_name().map(|b| b.to_string_lossy().into_owned()).unwrap_or_default();
        if RUNNERS.contains(&base.as_str()) {
            errors.push(format!("{n} runs other programs and would bypass the allow-list; it cannot be allowed"));
            continue;
        }
        if is_interpreter(&base) && !interp.contains(&base) {
            // Listed as a program but not as an interpreter: leave it out.
            continue;
        }
        let Some(found) = lookup(&path, n) else {
            missing.push(n.clone());
            continue;
        };
        let Ok(canon) = std::fs::canonicalize(&found) else {
            missing.push(n.clone());
            continue;
        };
        // Several names may resolve to one binary (python, python3); the first
        // name's rules win, and all share the interpreter rules anyway.
        programs.entry(canon.clone()).or_insert(Program { name: base.clone(), path: canon, kind: Kind::of(&base) });
    }
    for i in &interp {
        if !is_interpreter(i) {
            errors.push(format!("{i} is not a known interpreter (known: {})", INTERPRETERS.join(", ")));
        }
    }
    for e in &env_allow {
        if env_never(e) {
            errors.push(format!("environment variable {e} chooses the program or injects code; it cannot be allowed"));
        }
    }
    if errors.is_empty() {
        Ok((Policy { path, programs, interpreters: interp, env_allow }, missing))
    } else {
        Err(errors)
    }
}

/// Whether an allow-list entry (`NAME` or `PREFIX*`) could let through a
/// variable that must never be set. Compared without case: npm reads its
/// `npm_config_*` variables in any case.
fn env_never(entry: &str) -> bool {
    let wildcard = entry.ends_with('*');
    let name = entry.trim_end_matches('*').to_ascii_lowercase();
    let covers = |never: &str| {
        let never = never.to_ascii_lowercase();
        never == name || (wildcard && never.starts_with(&name))
    };
    ENV_NEVER.iter().any(|n| covers(n))
        || NEVER_PREFIXES.iter().any(|p| name.starts_with(&p.to_ascii_lowercase()) || covers(p))
}

fn is_interpreter(base: &str) -> bool {
    INTERPRETERS.contains(&base) || Kind::of(base) == Kind::Python || Kind::of(base) == Kind::Node
}

/// Find `name` on `path` (or take it as a path when it contains `/`).
fn lookup(path: &[PathBuf], name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    path.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Refuse text that only makes sense to a shell, and line breaks.
pub fn check_arg(i: usize, a: &str) -> Result<(), Denial> {
    for (pat, what) in [
        ("\0", "a NUL byte"),
        ("\n", "a line break"),
        ("\r", "a carriage return"),
        ("$(", "command substitution `$(`"),
        ("`", "a backtick (command substitution)"),
        ("<(", "process substitution `<(`"),
        (">(", "process substitution `>(`"),
        ("${", "parameter expansion `${`"),
    ] {
        if a.contains(pat) {
            return deny(format!(
                "argument {i} contains {what}. Commands run without a shell, so shell syntax is never interpreted; \
                 run the inner command as its own call and pass its output explicitly"
            ));
        }
    }
    Ok(())
}

impl Policy {
    /// Names of the allowed programs, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.programs.values().map(|p| p.name.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The `PATH` children get.
    pub fn path_var(&self) -> String {
        self.path.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
    }

    /// Check a caller-supplied environment variable.
    pub fn check_env(&self, key: &str, value: &str) -> Result<(), Denial> {
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return deny(format!("environment variable name {key:?} is not a plain NAME"));
        }
        if value.contains(['\0', '\n']) {
            return deny(format!("environment variable {key} contains a NUL or a line break"));
        }
        let ok = self.env_allow.iter().any(|a| match a.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => a == key,
        });
        if ok {
            Ok(())
        } else {
            deny(format!(
                "environment variable {key} is not on this server's allow-list ({}); children get no other variables",
                self.env_allow.join(", ")
            ))
        }
    }

    /// Check a command run locally with working directory `cwd`.
    pub fn check(&self, argv: &[String], cwd: &Path) -> Result<Checked, Denial> {
        let Some(first) = argv.first() else { return deny("argv is empty; give the program and its arguments") };
        for (i, a) in argv.iter().enumerate() {
            check_arg(i, a)?;
        }
        if first.is_empty() {
            return deny("argv[0] is empty");
        }
        let mut lexical = None;
        let resolved = if first.contains('/') {
            let p = if Path::new(first).is_absolute() { PathBuf::from(first) } else { cwd.join(first) };
            let r = std::fs::canonicalize(&p).map_err(|_| Denial(format!("{first} does not exist")))?;
            lexical = Some(p);
            r
        } else {
            let found = lookup(&self.path, first).ok_or_else(|| {
                Denial(format!(
                    "{first} is not an allowed program (looked up on {}). Allowed: {}",
                    self.path_var(),
                    self.names().join(", ")
                ))
            })?;
            std::fs::canonicalize(&found).map_err(|_| Denial(format!("{first} cannot be resolved")))?
        };
        let Some(program) = self.programs.get(&resolved) else {
            let base = resolved.file_name().map(|b| b.to_string_lossy().into_owned()).unwrap_or_default();
            let why = if is_interpreter(&base) {
                format!("{base} is an interpreter and interpreters are not allowed on this server")
            } else if RUNNERS.contains(&base.as_str()) {
                format!("{base} runs other programs and is never allowed")
            } else {
                "it is not on the allow-list".to_owned()
            };
            return deny(format!(
                "{first} resolves to {}, which is not allowed: {why}. Allowed programs: {}",
                resolved.display(),
                self.names().join(", ")
            ));
        };
        let mut args = argv[1..].to_vec();
        check_args(program, &args)?;
        if program.kind == Kind::Git {
            args = harden_git(args);
        }
        let arg0 = lexical.filter(|_| program.kind == Kind::Python).map(|p| p.display().to_string());
        Ok(Checked { exe: program.path.clone(), name: program.name.clone(), args, arg0 })
    }

    /// Check a command for a remote host, where paths mean nothing: the
    /// program is matched by name, and the same argument rules apply.
    pub fn check_remote(&self, argv: &[String]) -> Result<Checked, Denial> {
        let Some(first) = argv.first() else { return deny("argv is empty") };
        for (i, a) in argv.iter().enumerate() {
            check_arg(i, a)?;
        }
        if first.contains('/') {
            return deny("remote commands are matched by program name; give a bare name such as `uname`, not a path");
        }
        let Some(program) = self.programs.values().find(|p| p.name == *first) else {
            return deny(format!("{first} is not an allowed program. Allowed: {}", self.names().join(", ")));
        };
        let args = argv[1..].to_vec();
        check_args(program, &args)?;
        Ok(Checked { exe: PathBuf::from(first), name: program.name.clone(), args, arg0: None })
    }
}

/// Short options may be bundled (`-Bc`): true when `a` is a bundle holding `flag`.
fn short_bundle_has(a: &str, flag: char) -> bool {
    a.starts_with('-') && !a.starts_with("--") && a.len() > 1 && a[1..].contains(flag)
}

/// Whether `a` names the long option `long` the way getopt_long (and
/// nopt, and argparse) read it: the whole name, or any unambiguous prefix of
/// it, with or without `=value`. `--to-com=sh` is `--to-command=sh` to GNU
/// tar, so an exact comparison is no check. Any prefix of three or more
/// characters counts (shorter ones are ambiguous to every program here), so
/// a refusal errs towards asking for the full name of a harmless option.
fn option_is(a: &str, long: &str) -> bool {
    let Some(given) = a.strip_prefix("--") else { return false };
    let given = given.split('=').next().unwrap_or(given);
    let long = long.trim_start_matches("--");
    (given == long || given.len() >= 3) && long.starts_with(given)
}

/// Whether GNU tar reads `a` (at position `i`) as a bundle of short options
/// holding `flag`: `-xIsh`, or — tar's old style — a first argument without
/// a dash (`xIf`).
fn tar_bundle_has(i: usize, a: &str, flag: char) -> bool {
    short_bundle_has(a, flag) || (i == 0 && !a.starts_with('-') && a.contains(flag))
}

/// Configuration keys a repository could set to make a "read-only" git
/// subcommand run a program, overridden on git's command line (which beats
/// every configuration file). Keys whose names the repository chooses
/// (`filter.<driver>.clean`, `diff.<driver>.textconv`) cannot be listed;
/// diffs get `--no-ext-diff --no-textconv`, and the job's sandbox contains
/// what is left.
const GIT_OVERRIDES: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.editor=:",
    "sequence.editor=:",
    "core.sshCommand=false",
    "core.askPass=",
    "credential.helper=",
    "protocol.ext.allow=never",
    "gpg.program=false",
    "core.alternateRefsCommand=",
];

/// The argv of an allowed git call as it runs: the server's overrides first,
/// and the diffing subcommands told not to run external diff or textconv
/// programs.
fn harden_git(args: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = GIT_OVERRIDES.iter().flat_map(|kv| ["-c".to_owned(), (*kv).to_owned()]).collect();
    let mut rest = args.into_iter();
    for a in rest.by_ref() {
        let is_sub = !a.starts_with('-');
        let sub = a.clone();
        out.push(a);
        if is_sub {
            match sub.as_str() {
                "diff" | "log" | "show" => out.extend(["--no-ext-diff".to_owned(), "--no-textconv".to_owned()]),
                "blame" => out.push("--no-textconv".to_owned()),
                _ => {}
            }
            break;
        }
    }
    out.extend(rest);
    out
}

fn check_args(p: &Program, args: &[String]) -> Result<(), Denial> {
    let name = &p.name;
    match p.kind {
        Kind::Plain => Ok(()),
        Kind::Python => {
            let mut i = 0;
            while i < args.len() {
                let a = args[i].as_str();
                if !a.starts_with('-') || a == "-" {
                    return Ok(()); // the script; its arguments are its own
                }
                if a == "--" {
                    return Ok(());
                }
                if a == "-m" {
                    let module = args.get(i + 1).map(String::as_str).unwrap_or("");
                    let top = module.split('.').next().unwrap_or("");
                    return if PYTHON_MODULES.contains(&top) {
                        Ok(())
                    } else {
                        deny(format!(
                            "{name} -m {module}: only these modules may be run: {}",
                            PYTHON_MODULES.join(", ")
                        ))
                    };
                }
                if a.starts_with("-m") && !a.starts_with("--") {
                    return deny(format!("{name}: write `-m MODULE` as two arguments"));
                }
                if a == "-W" || a == "-X" {
                    i += 2;
                    continue;
                }
                if short_bundle_has(a, 'c') {
                    return deny(format!(
                        "{name} -c runs inline code, which this server does not allow; write the code to a file in the project and run the file"
                    ));
                }
                if short_bundle_has(a, 'i') {
                    return deny(format!("{name} -i is interactive and would hang; run a script instead"));
                }
                i += 1;
            }
            Ok(())
        }
        Kind::Node => {
            for a in args {
                let a = a.as_str();
                if !a.starts_with('-') {
                    return Ok(());
                }
                for long in [
                    "--eval",
                    "--print",
                    "--require",
                    "--import",
                    "--loader",
                    "--experimental-loader",
                    "--inspect",
                    "--inspect-brk",
                    "--interactive",
                ] {
                    if option_is(a, long) || a.starts_with(&format!("{long}-")) {
                        return deny(format!(
                            "{name} {long} runs code from the command line or opens a debugger; run a script file instead"
                        ));
                    }
                }
                if short_bundle_has(a, 'e')
                    || short_bundle_has(a, 'p')
                    || short_bundle_has(a, 'r')
                    || short_bundle_has(a, 'i')
                {
                    return deny(format!(
                        "{name} {a}: inline code (-e/-p), preloads (-r) and interactive mode (-i) are not allowed; run a script file"
                    ));
                }
            }
            Ok(())
        }
        Kind::Shell => {
            for a in args {
                let a = a.as_str();
                if !a.starts_with('-') && !a.starts_with('+') {
                    return Ok(());
                }
                if short_bundle_has(a, 'c') || a == "--command" {
                    return deny(format!(
                        "{name} -c runs a command string, which this server does not allow; run a script file"
                    ));
                }
                if short_bundle_has(a, 'i') || short_bundle_has(a, 's') {
                    return deny(format!("{name} {a}: interactive or stdin mode is not allowed; run a script file"));
                }
            }
            deny(format!("{name} without a script file would read commands from stdin; give a script file"))
        }
        Kind::OtherInterpreter => {
            for a in args {
                let a = a.as_str();
                if !a.starts_with('-') {
                    return Ok(());
                }
                if short_bundle_has(a, 'e') || short_bundle_has(a, 'E') || short_bundle_has(a, 'r') || a == "-R" {
                    return deny(format!("{name} {a} runs inline code; run a script file"));
                }
            }
            Ok(())
        }
        Kind::Awk => {
            if args.iter().any(|a| a == "-f" || a.starts_with("--file")) {
                Ok(())
            } else {
                deny(format!("{name} programs on the command line are code; put the program in a file and use -f"))
            }
        }
        Kind::Find => {
            for a in args {
                for bad in ["-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"]
                {
                    if a == bad {
                        return deny(format!(
                            "find {bad} runs programs or writes files; use find to list paths and act on them with separate calls"
                        ));
                    }
                }
            }
            Ok(())
        }
        Kind::Git => {
            let mut sub = None;
            for a in args {
                if a == "--no-pager" {
                    continue;
                }
                if a.starts_with('-') {
                    return deny(format!(
                        "git {a}: global git options (-c, -C, --git-dir, --work-tree, --exec-path...) can run commands or leave the project; set the working directory instead"
                    ));
                }
                sub = Some(a.as_str());
                break;
            }
            let Some(sub) = sub else { return deny("git without a subcommand") };
            if !GIT_SUBCOMMANDS.contains(&sub) {
                return deny(format!(
                    "git {sub} is not allowed through the shell (read-only subcommands only: {}); use the git server's tools to change repositories",
                    GIT_SUBCOMMANDS.join(", ")
                ));
            }
            for a in args {
                let l = a.to_ascii_lowercase();
                for bad in [
                    "--output",
                    "--ext-diff",
                    "--upload-pack",
                    "--receive-pack",
                    "--exec",
                    "--config-env",
                    "--open-files-in-pager",
                ] {
                    if option_is(&l, bad) {
                        return deny(format!("git {bad} can write files or run programs; it is not allowed"));
                    }
                }
                if l.contains("core.sshcommand")
                    || l.contains("core.pager")
                    || l.contains("core.editor")
                    || l.contains("core.fsmonitor")
                    || l.contains("core.hookspath")
                {
                    return deny(
                        "git configuration that runs programs (core.sshCommand, core.pager, core.editor, core.fsmonitor, core.hooksPath) is not allowed",
                    );
                }
            }
            Ok(())
        }
        Kind::Sort => {
            for a in args {
                if option_is(a, "--compress-program") {
                    return deny("sort --compress-program runs a program; it is not allowed");
                }
            }
            Ok(())
        }
        Kind::Tar => {
            for (i, a) in args.iter().enumerate() {
                for bad in [
                    "--checkpoint-action",
                    "--to-command",
                    "--use-compress-program",
                    "--rsh-command",
                    "--info-script",
                    "--new-volume-script",
                    "--rmt-command",
                    "--index-file",
                ] {
                    if option_is(a, bad) {
                        return deny(format!("tar {bad} runs programs; it is not allowed"));
                    }
                }
                if tar_bundle_has(i, a, 'I') || tar_bundle_has(i, a, 'F') {
                    return deny("tar -I/-F run programs; they are not allowed");
                }
            }
            Ok(())
        }
        Kind::Rsync => {
            for a in args {
                if option_is(a, "--rsh") || option_is(a, "--rsync-path") || short_bundle_has(a, 'e') {
                    return deny("rsync -e/--rsh/--rsync-path run programs; they are not allowed");
                }
            }
            Ok(())
        }
        Kind::Cargo => {
            for a in args {
                if option_is(a, "--config") || a.starts_with("-Z") {
                    return deny("cargo --config and -Z can change which programs cargo runs; they are not allowed");
                }
            }
            subcommand(
                name,
                args,
                CARGO_SUBCOMMANDS,
                &["+", "--locked", "--offline", "--frozen", "-q", "--quiet", "-v", "--verbose"],
            )
        }
        Kind::Npm => {
            for a in args {
                if option_is(a, "--script-shell") || option_is(a, "--node-options") {
                    return deny("npm --script-shell/--node-options change what npm runs; they are not allowed");
                }
            }
            subcommand(name, args, NPM_SUBCOMMANDS, &["--silent", "-s", "--quiet", "-q"])
        }
        Kind::Pip => subcommand(
            name,
            args,
            PIP_SUBCOMMANDS,
            &["-q", "--quiet", "-v", "--verbose", "--disable-pip-version-check", "--no-input"],
        ),
        Kind::Make => {
            for a in args {
                if a.starts_with("SHELL=")
                    || a.starts_with("MAKESHELL=")
                    || a.starts_with(".SHELLFLAGS=")
                    || option_is(a, "--eval")
                    || short_bundle_has(a, 'E')
                {
                    return deny("make SHELL=/--eval change what make runs; they are not allowed");
                }
            }
            Ok(())
        }
    }
}

fn subcommand(name: &str, args: &[String], allowed: &[&str], flags: &[&str]) -> Result<(), Denial> {
    let sub = args.iter().find(|a| !flags.contains(&a.as_str()) && !a.starts_with('+'));
    match sub {
        None => Ok(()),
        Some(s) if allowed.contains(&s.as_str()) => Ok(()),
        Some(s) => deny(format!("{name} {s} is not allowed here; allowed subcommands: {}", allowed.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let names: Vec<String> =
            ["true", "echo", "find", "tar", "git", "python3", "sh", "ls", "sort", "make"].map(String::from).into();
        let (p, _) = build(
            vec![PathBuf::from("/usr/bin"), PathBuf::from("/bin"), PathBuf::from("/usr/local/bin")],
            &names,
            &["python3".into()],
            vec!["CI".into(), "PIP_*".into()],
        )
        .unwrap();
        p
    }

    fn check(argv: &[&str]) -> Result<Checked, Denial> {
        let v: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        policy().check(&v, Path::new("/tmp"))
    }

    #[test]
    fn allowed_commands_pass() {
        for ok in [
            &["true"][..],
            &["echo", "hi"],
            &["find", ".", "-name", "*.py"],
            &["git", "status"],
            &["python3", "-m", "pytest", "-q"],
            &["python3", "script.py", "-c", "x"],
        ] {
            assert!(check(ok).is_ok(), "{ok:?}: {:?}", check(ok));
        }
    }

    #[test]
    fn the_bypass_corpus_is_refused() {
        for bad in [
            &["/usr/bin/env", "X=1", "ls"][..],
            &["env", "X=1", "ls"],
            &["sh", "-c", "ls"],
            &["python3", "-c", "import os"],
            &["python3", "-Bc", "import os"],
            &["python3", "-m", "http.server"],
            &["echo", "$(cat /etc/passwd)"],
            &["echo", "`id`"],
            &["echo", "a\nls"],
            &["cat", "<(ls)"],
            &["find", ".", "-exec", "rm", "{}", ";"],
            &["tar", "--to-command=sh", "-xf", "a.tar"],
            &["tar", "-I", "sh", "-cf", "a.tar", "."],
            &["git", "-c", "core.sshCommand=touch /tmp/x", "status"],
            &["git", "push"],
            &["git", "log", "--output=/tmp/x"],
            &["/bin/c?rl", "x"],
            &["\"curl\"", "x"],
            &["c'u'rl", "x"],
            &["curl", "http://x"],
            // Abbreviated long options: getopt_long reads any unambiguous prefix.
            &["tar", "--to-com=sh", "-xf", "a.tar"],
            &["tar", "--use-compress=sh", "-cf", "a.tar", "."],
            &["tar", "--checkpoint-act=exec=sh", "-cf", "a.tar", "."],
            &["sort", "--compress-program=sh", "x"],
            &["sort", "--compress-prog=sh", "x"],
            &["sort", "--compress=sh", "x"],
            &["git", "log", "--out=/tmp/x"],
            &["git", "diff", "--ext-d"],
            &["git", "log", "--OUTPUT=/tmp/x"],
            &["make", "--ev=$(shell id)"],
            // Bundled short options, and tar's dashless old style.
            &["tar", "-cvIsh", "-f", "a.tar", "."],
            &["tar", "cIf", "sh", "a.tar", "."],
            &["tar", "xFf", "sh", "a.tar"],
            &["make", "-nE", "x:=1"],
        ] {
            assert!(check(bad).is_err(), "{bad:?} was allowed");
        }
    }

    /// The threat is real: the installed programs themselves accept the
    /// abbreviations refused above (asking them, not assuming).
    #[test]
    fn the_real_programs_accept_the_abbreviations_refused() {
        use std::process::Command;
        let ran = |argv: &[&str]| Command::new(argv[0]).args(&argv[1..]).output().is_ok_and(|o| o.status.success());
        // tar takes --to-com as --to-command (and runs nothing: no archive is extracted).
        assert!(ran(&["tar", "--to-com=true", "-cf", "/dev/null", "--files-from=/dev/null"]));
        // sort takes --compress-prog as --compress-program.
        assert!(ran(&["sort", "--compress-prog=true", "/dev/null"]));
        // And a name that matches no option is refused by the program, so a prefix is not a guess.
        assert!(!ran(&["sort", "--no-such-option", "/dev/null"]));
    }

    #[test]
    fn read_only_git_runs_with_the_servers_overrides() {
        let c = check(&["git", "log", "-p"]).unwrap();
        let a = c.args.join(" ");
        assert!(a.starts_with("-c core.fsmonitor=false -c core.hooksPath=/dev/null"), "{a}");
        assert!(a.ends_with("log --no-ext-diff --no-textconv -p"), "{a}");
        let c = check(&["git", "--no-pager", "status"]).unwrap();
        assert!(c.args.join(" ").ends_with("--no-pager status"), "{:?}", c.args);
        // Harmless options that only share a short prefix with a dangerous one still pass in full.
        assert!(check(&["git", "log", "--oneline"]).is_ok());
        assert!(check(&["tar", "--to-stdout", "-xf", "a.tar"]).is_ok());
        assert!(check(&["sort", "--check", "x"]).is_ok());
    }

    #[test]
    fn runners_and_dangerous_env_cannot_be_configured() {
        assert!(build(vec![PathBuf::from("/usr/bin")], &["env".into()], &[], vec![]).is_err());
        assert!(build(vec![PathBuf::from("/usr/bin")], &["true".into()], &[], vec!["LD_PRELOAD".into()]).is_err());
        assert!(build(vec![PathBuf::from("/usr/bin")], &["true".into()], &[], vec!["PAT*".into()]).is_err());
        // Loader and interpreter search paths and git configuration injection,
        // in any spelling an allow-list entry could cover them with.
        for never in [
            "PYTHONPATH",
            "PYTHON*",
            "PERL5LIB",
            "RUBYLIB",
            "NODE_OPTIONS",
            "NODE_PATH",
            "LD_BIND_NOW",
            "L*",
            "DYLD_INSERT_LIBRARIES",
            "GIT_CONFIG_KEY_0",
            "GIT_*",
            "PYTEST_ADDOPTS",
            "NPM_CONFIG_NODE_OPTIONS",
            "npm_config_*",
        ] {
            let b = build(vec![PathBuf::from("/usr/bin")], &["true".into()], &[], vec![never.into()]);
            assert!(b.is_err(), "{never} was allowed");
        }
        for ok in ["CI", "PYTHONUNBUFFERED", "npm_config_loglevel", "GIT_AUTHOR_NAME"] {
            assert!(build(vec![PathBuf::from("/usr/bin")], &["true".into()], &[], vec![ok.into()]).is_ok(), "{ok}");
        }
        // The default allow-list holds none of them.
        assert!(ENV_ALLOW_DEFAULT.iter().all(|e| !env_never(e)));
    }

    #[test]
    fn env_allow_list() {
        let p = policy();
        assert!(p.check_env("CI", "1").is_ok());
        assert!(p.check_env("PIP_INDEX_URL", "x").is_ok());
        assert!(p.check_env("PYTHONPATH", "/tmp").is_err());
        assert!(p.check_env("PATH", "/tmp").is_err());
        assert!(p.check_env("AWS_SECRET", "x").is_err());
        assert!(p.check_env("BAD NAME", "x").is_err());
    }
}
