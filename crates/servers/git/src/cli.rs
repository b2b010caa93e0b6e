//! Running the `git` command line for network operations, under the server's
//! control.
//!
//! git is started with an argument vector (never a shell), an empty
//! environment plus a minimal one (a private `HOME`, no system or global
//! configuration, no terminal prompts, no askpass, no proxy command), and the
//! server's own configuration passed through `GIT_CONFIG_COUNT`/`KEY_n`/
//! `VALUE_n`, which git reads last and which `ps` does not show. Those
//! settings neutralise what a repository's own `.git/config` could make git
//! execute (`core.sshCommand`, `core.fsmonitor`, hooks, credential helpers,
//! signing programs) and `GIT_ALLOW_PROTOCOL` limits transports to the
//! allowed schemes (`ext::` never). Settings that cannot be overridden this
//! way are refused by [`scan_config`] before any network call. Each run has a
//! deadline; on expiry or cancellation the whole process group is killed.
//! Everything git prints passes through [`Policy::redact`].

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_core::{Ctx, ToolError};
use tokio::io::AsyncReadExt;

use crate::config::{Config, Secret};
use crate::policy::{Policy, RemoteUrl, auth_value};

/// Most bytes kept of git's stdout or stderr.
const MAX_CAPTURE: usize = 256 << 10;

/// The prepared environment for git runs.
pub struct Cli {
    home: tempfile::TempDir,
    path_env: String,
    ssh_command: String,
    token: Option<Secret>,
    identity: Option<(String, String)>,
    allow_protocol: String,
    policy: Arc<Policy>,
    /// The kernel sandbox git runs in; `None` when the operator switched it off.
    confinement: Option<mcp_core::sandbox::Confinement>,
}

/// One git invocation.
pub struct Run<'a> {
    /// Working directory.
    pub cwd: &'a Path,
    /// `GIT_DIR`, when running inside a repository.
    pub git_dir: Option<&'a Path>,
    /// `GIT_WORK_TREE`, when the repository has one.
    pub work_tree: Option<&'a Path>,
    /// Arguments after `git`.
    pub args: Vec<OsString>,
    /// The remote contacted, to decide whether the token goes along.
    pub remote: Option<&'a RemoteUrl>,
    /// Time limit.
    pub timeout: Duration,
    /// Extra environment (an identity for merge commits).
    pub env: Vec<(String, String)>,
}

/// What a finished git run produced (already redacted).
#[derive(Debug)]
pub struct Output {
    /// True on exit status 0.
    pub success: bool,
    /// Exit code, if it exited normally.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// The last lines of stderr (or stdout when stderr is empty), for an error message.
    pub fn tail(&self) -> String {
        let src = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        let lines: Vec<&str> = src.lines().filter(|l| !l.trim().is_empty()).collect();
        let start = lines.len().saturating_sub(20);
        lines[start..].join("\n")
    }
}

/// Why the CLI environment could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the private HOME for git: {0}")]
pub struct CliError(#[from] std::io::Error);

fn shell_quote(p: &Path) -> String {
    // The config reader rejects paths with quotes, so single quotes are safe.
    format!("'{}'", p.display())
}

impl Cli {
    /// Prepare from the configuration.
    pub fn new(c: &Config, policy: Arc<Policy>) -> Result<Self, CliError> {
        let home = tempfile::Builder::new().prefix("mcp-server-git-home-").tempdir()?;
        let known_hosts = c.ssh_known_hosts.as_deref().unwrap_or(Path::new("/dev/null"));
        let mut ssh = format!(
            "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={} \
             -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=30",
            shell_quote(known_hosts)
        );
        if let Some(key) = &c.ssh_key_file {
            ssh.push_str(&format!(" -o IdentitiesOnly=yes -i {}", shell_quote(key)));
        }
        let allow_protocol = c.allowed_schemes.join(":");
        // The repositories' roots and the private HOME are git's to write;
        // the system (git itself, its helpers, CA certificates) and the ssh
        // files are readable; nothing else — so a configuration key or hook
        // the overrides missed still cannot reach other files.
        let mut write: Vec<std::path::PathBuf> =
            c.roots.iter().map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone())).collect();
        write.push(home.path().to_path_buf());
        let read: Vec<std::path::PathBuf> = c.ssh_key_file.iter().chain(c.ssh_known_hosts.iter()).cloned().collect();
        let confinement = c.sandbox.then(|| mcp_core::sandbox::Confinement::system(&read, &write, true));
        Ok(Self {
            home,
            path_env: std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            ssh_command: ssh,
            token: c.https_token.clone(),
            identity: c.author_name.clone().zip(c.author_email.clone()),
            allow_protocol,
            policy,
            confinement,
        })
    }

    /// How git is confined, for `/ready`: `Err` when the sandbox is on and
    /// this machine lacks it (network operations are then refused).
    pub fn sandbox_status(&self) -> Result<String, String> {
        let st = mcp_core::sandbox::status();
        match &self.confinement {
            None => Ok(format!("git runs unconfined: {}", st.switched_off().summary())),
            Some(_) if st.level == mcp_core::sandbox::Level::None => Err(format!(
                "git commands are refused: {} (GIT_SANDBOX=on needs Landlock; GIT_SANDBOX=off runs git unconfined)",
                st.summary()
            )),
            Some(_) => Ok(format!("git runs in {}", st.summary())),
        }
    }

    /// The private HOME.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The server-controlled configuration for one run, read by git after
    /// every configuration file.
    fn overrides(&self, remote: Option<&RemoteUrl>) -> Vec<(String, String)> {
        let mut v: Vec<(&str, String)> = vec![
            // A repository's hooks (which the agent can write) never run.
            ("core.hooksPath", "/dev/null".into()),
            ("core.fsmonitor", "false".into()),
            ("core.sshCommand", self.ssh_command.clone()),
            ("core.askPass", String::new()),
            ("core.pager", "cat".into()),
            // ":" is git's own "no editor": a merge on pull never opens one.
            ("core.editor", ":".into()),
            ("sequence.editor", ":".into()),
            // An empty value empties the helper list built from earlier files.
            ("credential.helper", String::new()),
            ("credential.interactive", "false".into()),
            ("protocol.ext.allow", "never".into()),
            ("protocol.file.allow", "user".into()),
            ("submodule.recurse", "false".into()),
            ("fetch.recurseSubmodules", "false".into()),
            ("push.recurseSubmodules", "no".into()),
            ("commit.gpgSign", "false".into()),
            ("tag.gpgSign", "false".into()),
            ("push.gpgSign", "false".into()),
            ("merge.verifySignatures", "false".into()),
            // No background maintenance processes that would outlive the call.
            ("gc.auto", "0".into()),
            ("maintenance.auto", "false".into()),
            ("fetch.writeCommitGraph", "false".into()),
            ("http.extraHeader", String::new()),
        ];
        if let (Some(t), Some(r)) = (&self.token, remote)
            && self.policy.token_allowed(r)
        {
            v.push(("http.extraHeader", format!("Authorization: {}", auth_value(&t.0))));
            // A redirect must not carry the token to another server.
            v.push(("http.followRedirects", "false".into()));
        }
        if let Some((name, email)) = &self.identity {
            v.push(("user.name", name.clone()));
            v.push(("user.email", email.clone()));
        }
        v.into_iter().map(|(k, val)| (k.to_owned(), val)).collect()
    }

    /// Run git and wait for it, within the run's time limit and the call's deadline.
    pub async fn run(&self, run: Run<'_>, ctx: &Ctx) -> Result<Output, ToolError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(&run.args)
            .current_dir(run.cwd)
            .env_clear()
            .env("PATH", &self.path_env)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("LANG", "C")
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            // Set but empty: git then ignores core.askPass, SSH_ASKPASS and core.gitProxy.
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env("GIT_PROXY_COMMAND", "")
            .env("GIT_SSH_COMMAND", &self.ssh_command)
            .env("GIT_SSH_VARIANT", "ssh")
            .env("GIT_EDITOR", "true")
            .env("GIT_PAGER", "cat")
            .env("GIT_ALLOW_PROTOCOL", &self.allow_protocol)
            .env("GIT_PROTOCOL_FROM_USER", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(d) = run.git_dir {
            cmd.env("GIT_DIR", d);
        }
        if let Some(w) = run.work_tree {
            cmd.env("GIT_WORK_TREE", w);
        }
        for (k, v) in &run.env {
            cmd.env(k, v);
        }
        let overrides = self.overrides(run.remote);
        cmd.env("GIT_CONFIG_COUNT", overrides.len().to_string());
        for (i, (k, v)) in overrides.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), k).env(format!("GIT_CONFIG_VALUE_{i}"), v);
        }
        if let Some(c) = &self.confinement {
            self.sandbox_status().map_err(ToolError::Unavailable)?;
            let prepared = c.prepare().map_err(|e| ToolError::Unavailable(format!("the git sandbox: {e}")))?;
            confine(&mut cmd, prepared);
        }
        let shown: Vec<String> = run.args.iter().map(|a| self.policy.redact(&a.to_string_lossy())).collect();
        let start = Instant::now();
        // Registered as this process's own child: a reaper of another server sharing the process (tests) must
        // not collect git's exit status before tokio does.
        let (mut child, _owned) = mcp_core::jobs::spawn_owned(&mut cmd)
            .map_err(|e| ToolError::Unavailable(format!("cannot run git: {e}; is git installed and on PATH?")))?;
        // Kills the whole group if this future is dropped before git exits
        // (the call's own timeout or cancellation), so no helper survives.
        let mut guard = GroupGuard(child.id());
        let out = child.stdout.take().map(|s| tokio::spawn(read_capped(s)));
        let err = child.stderr.take().map(|s| tokio::spawn(read_capped(s)));
        let limit = run.timeout.min(ctx.remaining());
        let waited = tokio::select! {
            r = tokio::time::timeout(limit, child.wait()) => match r {
                Ok(status) => Ok(status),
                Err(_) => Err(true),
            },
            _ = ctx.cancelled() => Err(false),
        };
        let status = match waited {
            Ok(s) => {
                guard.0 = None;
                Some(s.map_err(ToolError::internal)?)
            }
            Err(_) => {
                guard.kill();
                let _ = child.wait().await;
                None
            }
        };
        let stdout = join(out).await;
        let stderr = join(err).await;
        let o = Output {
            success: status.is_some_and(|s| s.success()),
            code: status.and_then(|s| s.code()),
            stdout: self.policy.redact(&stdout),
            stderr: self.policy.redact(&stderr),
        };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        mcp_core::tracing::info!(git = %shown.join(" "), code = ?o.code, duration_ms = ms, "git command finished");
        if status.is_none() {
            let what = if ctx.is_cancelled() && limit > start.elapsed() { "was cancelled" } else { "timed out" };
            return Err(ToolError::Timeout(format!(
                "git {} {what} after {:.0} s and was stopped. git said:\n{}\nCheck that the remote is reachable, or \
                 ask for less (a shallow depth, one branch).",
                shown.first().map(String::as_str).unwrap_or(""),
                start.elapsed().as_secs_f64(),
                o.tail()
            )));
        }
        Ok(o)
    }
}

/// Enter the sandbox in the child, between fork and exec.
#[allow(unsafe_code)]
fn confine(cmd: &mut tokio::process::Command, mut prepared: mcp_core::sandbox::Prepared) {
    // SAFETY: the closure runs in the forked child before exec and only makes
    // the raw system calls of `Prepared::enter` (prctl, landlock_restrict_self),
    // which neither allocate nor take locks; the ruleset was built before the fork.
    unsafe {
        cmd.pre_exec(move || prepared.enter());
    }
}

/// The process group of a running git (its id is the leader's pid, from
/// `process_group(0)`); killed on drop unless disarmed.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(p) = self.0.take().and_then(|p| i32::try_from(p).ok()).and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn read_capped<R: tokio::io::AsyncRead + Unpin>(mut r: R) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf.len() < MAX_CAPTURE {
                    buf.extend_from_slice(&chunk[..n.min(MAX_CAPTURE - buf.len())]);
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn join(h: Option<tokio::task::JoinHandle<String>>) -> String {
    match h {
        // Bounded: the group is dead, so the pipes close; a stray holder cannot hang the call.
        Some(h) => tokio::time::timeout(Duration::from_secs(5), h).await.ok().and_then(Result::ok).unwrap_or_default(),
        None => String::new(),
    }
}

/// Local configuration keys that could make git run a program, send traffic
/// elsewhere or read files, and that the server cannot override for every
/// possible name. A repository that sets one is refused for network
/// operations until the key is removed.
fn dangerous(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let parts: Vec<&str> = k.split('.').collect();
    let (first, last) = (parts.first().copied().unwrap_or(""), parts.last().copied().unwrap_or(""));
    match first {
        "url" => last == "insteadof" || last == "pushinsteadof",
        "filter" => true,
        "merge" => last == "driver",
        "diff" => last == "external" || last == "command" || last == "textconv",
        "gpg" => last == "program",
        "remote" => matches!(last, "uploadpack" | "receivepack" | "proxy" | "vcs"),
        "core" => matches!(last, "gitproxy" | "askpass" | "alternaterefscommand"),
        // `http.<url>.<key>` beats the server's general `http.<key>` override
        // for that URL (a repository could re-enable redirects and send the
        // token elsewhere), so every URL-specific http key is refused.
        "http" | "https" if parts.len() > 2 => true,
        "http" | "https" => {
            last.contains("proxy")
                || matches!(last, "cookiefile" | "sslcert" | "sslkey" | "sslcainfo" | "sslcapath" | "curloptresolve")
                || (last == "sslverify" && matches!(value.to_ascii_lowercase().as_str(), "false" | "no" | "off" | "0"))
        }
        "uploadpack" | "receive" => false,
        _ => false,
    }
}

/// The repository's own configuration (local and worktree scopes, includes
/// expanded), as git itself sees it.
pub async fn local_config(
    cli: &Cli,
    git_dir: &Path,
    cwd: &Path,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, ToolError> {
    let o = cli
        .run(
            Run {
                cwd,
                git_dir: Some(git_dir),
                work_tree: None,
                args: ["config", "--list", "--includes", "--show-scope", "-z"].iter().map(OsString::from).collect(),
                remote: None,
                timeout: Duration::from_secs(30),
                env: vec![],
            },
            ctx,
        )
        .await?;
    if !o.success {
        return Err(ToolError::failed(format!("cannot read the repository's configuration: {}", o.tail())));
    }
    Ok(parse_config_list(&o.stdout))
}

/// Parse `git config --list --show-scope -z`: records `scope NUL key LF value NUL`
/// (a key without a value has no LF), keeping the local and worktree scopes.
fn parse_config_list(out: &str) -> Vec<(String, String)> {
    let mut v = Vec::new();
    let mut tokens = out.split('\0');
    while let (Some(scope), Some(kv)) = (tokens.next(), tokens.next()) {
        if scope != "local" && scope != "worktree" {
            continue;
        }
        let (k, val) = kv.split_once('\n').unwrap_or((kv, ""));
        v.push((k.to_owned(), val.to_owned()));
    }
    v
}

/// Refuse a repository whose configuration sets a dangerous key.
pub fn scan_config(entries: &[(String, String)]) -> Result<(), ToolError> {
    let bad: Vec<&str> = entries.iter().filter(|(k, v)| dangerous(k, v)).map(|(k, _)| k.as_str()).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(ToolError::denied(format!(
        "the repository's .git/config sets {}, which could run programs, redirect traffic or read files during a \
         network operation. Remove {} (for example with the fs tools, or git_remote for remote URLs) and try again",
        bad.join(", "),
        if bad.len() == 1 { "it" } else { "them" }
    )))
}

/// The URLs configured for `remote` (fetch URLs, and push URLs when `push`).
pub fn remote_urls(entries: &[(String, String)], remote: &str, push: bool) -> Vec<String> {
    let url_key = format!("remote.{remote}.url");
    let push_key = format!("remote.{remote}.pushurl");
    let pushes: Vec<String> =
        entries.iter().filter(|(k, _)| k.eq_ignore_ascii_case(&push_key)).map(|(_, v)| v.clone()).collect();
    if push && !pushes.is_empty() {
        return pushes;
    }
    entries.iter().filter(|(k, _)| k.eq_ignore_ascii_case(&url_key)).map(|(_, v)| v.clone()).collect()
}

/// `--upload-pack`/`--receive-pack` values. For a local (file) remote git
/// runs these itself, in the remote repository, with our configuration
/// overrides stripped from the environment; the `-c` flags keep that
/// repository's hooks and work-tree updates from running.
pub fn pack_program(remote: &RemoteUrl, receive: bool) -> Option<OsString> {
    if remote.scheme != "file" {
        return None;
    }
    let base = "git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.alternateRefsCommand=true \
                -c receive.denyCurrentBranch=refuse";
    Some(if receive {
        OsString::from(format!("--receive-pack={base} receive-pack"))
    } else {
        OsString::from(format!("--upload-pack={base} upload-pack"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_keys() {
        for k in [
            "url.https://evil/.insteadof",
            "filter.lfs.smudge",
            "merge.x.driver",
            "diff.external",
            "gpg.program",
            "remote.origin.uploadpack",
            "core.gitproxy",
            "http.proxy",
            "http.https://h/.proxy",
            "http.https://h/.followredirects",
            "http.https://h.example/.extraheader",
            "https.https://h/.sslverify",
        ] {
            assert!(dangerous(k, "x"), "{k}");
        }
        assert!(dangerous("http.sslverify", "false"));
        assert!(!dangerous("http.sslverify", "true"));
        for k in ["core.sshcommand", "core.fsmonitor", "core.hookspath", "remote.origin.url", "user.name"] {
            assert!(!dangerous(k, "x"), "{k} is neutralised, not refused");
        }
    }

    #[test]
    fn config_list_parsing() {
        let out = "global\0user.name\nX\0local\0remote.origin.url\n/x\0local\0core.flag\0worktree\0a.b\nc\nd\0";
        assert_eq!(
            parse_config_list(out),
            [
                ("remote.origin.url".into(), "/x".into()),
                ("core.flag".into(), String::new()),
                ("a.b".into(), "c\nd".into())
            ]
        );
    }

    /// A program run by git (here an alias, standing for any key or hook the
    /// overrides might miss) cannot read outside the roots when git runs in
    /// the sandbox — and can when the operator switches it off, which shows
    /// the sandbox is what stops it.
    #[tokio::test]
    async fn git_runs_inside_the_sandbox() {
        if mcp_core::sandbox::status().level == mcp_core::sandbox::Level::None {
            panic!("this machine has no Landlock; the sandbox test needs it (see docs/security.md)");
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let canary = dir.path().join("canary.txt");
        std::fs::write(&canary, "CANARY-OUTSIDE").unwrap();
        std::fs::write(root.join("inside.txt"), "INSIDE").unwrap();
        let run = |sandbox: bool, file: std::path::PathBuf| {
            let root = root.clone();
            async move {
                let mut c = Config::for_root(&root);
                c.sandbox = sandbox;
                let policy = Arc::new(Policy::new(&c).unwrap());
                let cli = Cli::new(&c, policy).unwrap();
                let alias = format!("alias.peek=!cat {}", file.display());
                let args = ["-c", alias.as_str(), "peek"].iter().map(OsString::from).collect();
                let r = Run {
                    cwd: &root,
                    git_dir: None,
                    work_tree: None,
                    args,
                    remote: None,
                    timeout: Duration::from_secs(20),
                    env: vec![],
                };
                cli.run(r, &Ctx::detached(Duration::from_secs(30))).await.unwrap()
            }
        };
        let confined = run(true, canary.clone()).await;
        assert!(!confined.success && !confined.stdout.contains("CANARY"), "{confined:?}");
        let inside = run(true, root.join("inside.txt")).await;
        assert!(inside.success && inside.stdout.contains("INSIDE"), "{inside:?}");
        let unconfined = run(false, canary).await;
        assert!(unconfined.stdout.contains("CANARY-OUTSIDE"), "with the sandbox off the read succeeds: {unconfined:?}");
    }
}
