//! `fleet.toml`, the fleet manifest: every program that exists and what each
//! deployment of it needs (ports, images, environment, peers, secrets).
//!
//! A data file rather than a Rust table because three kinds of readers need
//! it: xtask (`up`, `images`, `codegen`, the tidy tests), the Python
//! deployment tests, and any test harness that wants a program's port or
//! peers. [`Manifest::validate`] holds the rules a manifest must keep; the
//! tidy tests run it on the real file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The manifest's file name at the repository root.
pub const FILE: &str = "fleet.toml";

/// Services of docker-compose.yml that are not programs and that a program
/// may wait for (`compose.depends_on`).
pub const INFRA: &[&str] = &["postgres", "mail", "prometheus"];

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// How terraform reads compose variables.
    #[serde(default)]
    pub terraform: Terraform,
    /// Every program, by package name (`mcp-server-fs`).
    pub programs: BTreeMap<String, Program>,
}

/// The `[terraform]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terraform {
    /// Compose variable -> terraform variable; unlisted ones take their default.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// One program.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Server or client.
    pub kind: Kind,
    /// Loopback port under `cargo xtask up`.
    pub port: u16,
    /// Whether the fleet sends its spans or its log lines here.
    #[serde(default)]
    pub sink: Option<Sink>,
    /// Programs it calls over MCP.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Secret files it mounts besides `mcp_token`.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// How its image is made.
    pub image: Image,
    /// Its environment under `cargo xtask up`.
    #[serde(default)]
    pub local: Local,
    /// Its compose service (and terraform container).
    #[serde(default)]
    pub compose: Compose,
}

/// Server or client: where the crate lives and what its name starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `crates/servers/<short>`, `mcp-server-<short>`.
    Server,
    /// `crates/clients/<short>`, `mcp-client-<short>`.
    Client,
}

impl Kind {
    /// The folder under `crates/`.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Server => "servers",
            Kind::Client => "clients",
        }
    }

    /// The package name's prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Server => "mcp-server-",
            Kind::Client => "mcp-client-",
        }
    }

    /// The kind a package name says, if it is a program's name.
    pub fn of_name(name: &str) -> Option<Kind> {
        [Kind::Server, Kind::Client].into_iter().find(|k| name.strip_prefix(k.prefix()).is_some_and(|s| !s.is_empty()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Server => "server",
            Kind::Client => "client",
        })
    }
}

/// The fleet's two telemetry sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sink {
    /// Spans over OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`).
    Otlp,
    /// JSON log lines (`MCP_LOG_ENDPOINT`).
    Logs,
}

impl Sink {
    /// The variable every program reads to find this sink.
    pub fn variable(self) -> &'static str {
        match self {
            Sink::Otlp => "OTEL_EXPORTER_OTLP_ENDPOINT",
            Sink::Logs => "MCP_LOG_ENDPOINT",
        }
    }
}

/// What an image starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// An empty image with the program's own root (docker/Dockerfile's `rootfs` stage).
    Scratch,
    /// The `toolchain` stage: Debian with what builds and tests run.
    Toolchain,
    /// Debian (the base image) with the image's `packages` installed by apt:
    /// for a program whose runtime is a large Debian package with data files
    /// and helpers a scratch root cannot collect by `ldd` (the browser
    /// server's Chromium).
    Debian,
}

/// The `[programs.X.image]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Scratch or toolchain.
    pub base: Base,
    /// `ENV` the image sets besides the listen address and `HOME`.
    #[serde(default)]
    pub env: Pairs,
    /// Debian packages the rootfs stage installs for `files` (scratch), or
    /// the packages a `debian` image installs.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Paths copied into a scratch root, with the libraries they load.
    #[serde(default)]
    pub files: Vec<String>,
    /// Symlinks made in a scratch root: path = target.
    #[serde(default)]
    pub links: Pairs,
}

/// The `[programs.X.local]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    /// Variables with placeholders (see [`expand`]).
    #[serde(default)]
    pub env: Pairs,
}

/// The `[programs.X.compose]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    /// Environment in compose's syntax (after the shared `x-program-env`).
    #[serde(default)]
    pub env: Pairs,
    /// Services waited for besides the sinks.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Mount the projects folder at /projects and run as its owner.
    #[serde(default)]
    pub projects: bool,
    /// Mount templates/ read-only at /templates.
    #[serde(default)]
    pub templates: bool,
    /// A named volume at /data.
    #[serde(default)]
    pub data_volume: Option<String>,
    /// Mount the Docker Engine's socket and join its group (`DOCKER_GID`):
    /// only the docker server, whose start-up policy is then the one gate
    /// between the fleet and the engine (see ARCHITECTURE.md).
    #[serde(default)]
    pub docker_socket: bool,
    /// Also join the docker server's application network (`apps` in
    /// docker-compose.yml, `<DOCKER_INSTANCE>-default`), where the services
    /// it deploys answer by their aliases (the browser server).
    #[serde(default)]
    pub apps_network: bool,
    /// Run an init as PID 1 (programs that start children).
    #[serde(default)]
    pub init: bool,
    /// tmpfs mounts instead of the default `/tmp`.
    #[serde(default)]
    pub tmpfs: Option<Vec<String>>,
    /// Memory limit instead of 256m.
    #[serde(default)]
    pub mem_limit: Option<String>,
    /// CPU limit instead of 1.0.
    #[serde(default)]
    pub cpus: Option<String>,
    /// Process limit instead of 256.
    #[serde(default)]
    pub pids_limit: Option<u32>,
    /// Publish the container's port 8080 on the host (`VAR:PORT`). The
    /// exception: programs talk over the compose network, and only what
    /// people reach from outside is published.
    #[serde(default)]
    pub publish: Option<Publish>,
}

/// `publish = "VAR:PORT"`: container port 8080 on the host port the compose
/// variable `VAR` names (default `PORT`), bound to `FLEET_BIND_ADDR`
/// (127.0.0.1 unless set), like the services that are not programs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Publish {
    /// The compose variable of the host port (`GATEWAY_PORT`).
    pub var: String,
    /// The host port when the variable is unset.
    pub port: u16,
}

impl TryFrom<String> for Publish {
    type Error = String;

    fn try_from(s: String) -> Result<Publish, String> {
        let fix = "write publish = \"VAR:PORT\": the compose variable of the host port (A-Z, 0-9, _) and its default";
        let Some((var, port)) = s.split_once(':') else { return Err(format!("publish = {s:?}: {fix}")) };
        if !is_env_name(var) {
            return Err(format!("publish = {s:?}: {var:?} is not an upper-case variable name; {fix}"));
        }
        match port.parse::<u16>() {
            Ok(port) if port >= 1024 => Ok(Publish { var: var.to_owned(), port }),
            Ok(_) => Err(format!("publish = {s:?}: {port} is privileged; pick a host port of 1024 or more")),
            Err(_) => Err(format!("publish = {s:?}: {port:?} is not a port number; {fix}")),
        }
    }
}

impl Publish {
    /// The host port in compose's syntax: `${VAR:-PORT}`.
    pub fn compose(&self) -> String {
        format!("${{{}:-{}}}", self.var, self.port)
    }
}

/// A TOML table of strings kept in the order it is written (environment
/// variables read best in the order their author chose).
#[derive(Debug, Default, Clone)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Pairs {
    /// The pairs as `(&str, &str)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Manifest {
    /// Parse a manifest's text.
    pub fn parse(text: &str) -> anyhow::Result<Manifest> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{FILE}: {e}"))
    }

    /// Read `fleet.toml` under `root`.
    pub fn load(root: &Path) -> anyhow::Result<Manifest> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Manifest::parse(&text)
    }

    /// Every program by ascending port: the order of listings meant for people.
    pub fn by_port(&self) -> Vec<(&str, &Program)> {
        let mut v: Vec<_> = self.programs.iter().map(|(n, p)| (n.as_str(), p)).collect();
        v.sort_by_key(|(_, p)| p.port);
        v
    }

    /// The program that is the given sink, if any.
    pub fn sink(&self, sink: Sink) -> Option<&str> {
        self.programs.iter().find(|(_, p)| p.sink == Some(sink)).map(|(n, _)| n.as_str())
    }

    /// What a program waits for before it starts: its `depends_on` and,
    /// unless it is a sink itself, the sinks.
    pub fn waits_for<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        let Some(p) = self.programs.get(name) else { return vec![] };
        let mut out: Vec<&str> = vec![];
        if p.sink.is_none() {
            out.extend([Sink::Logs, Sink::Otlp].iter().filter_map(|s| self.sink(*s)));
        }
        out.extend(p.compose.depends_on.iter().map(String::as_str));
        out
    }

    /// Start tiers: 0 for programs that wait only for infrastructure, else
    /// one more than the highest tier they wait for. Fails on a cycle.
    pub fn tiers(&self) -> anyhow::Result<BTreeMap<&str, usize>> {
        let mut tiers: BTreeMap<&str, usize> = BTreeMap::new();
        // At most one pass per program resolves every tier of an acyclic graph.
        for _ in 0..=self.programs.len() {
            for name in self.programs.keys() {
                let deps: Vec<&str> =
                    self.waits_for(name).into_iter().filter(|d| self.programs.contains_key(*d)).collect();
                if deps.iter().all(|d| tiers.contains_key(d)) {
                    let t = deps.iter().map(|d| tiers[d] + 1).max().unwrap_or(0);
                    tiers.insert(name, t);
                }
            }
        }
        if tiers.len() != self.programs.len() {
            let stuck: Vec<&str> =
                self.programs.keys().map(String::as_str).filter(|n| !tiers.contains_key(n)).collect();
            bail!("{FILE}: depends_on (with the sinks) has a cycle through {}", stuck.join(", "));
        }
        Ok(tiers)
    }

    /// Every rule a manifest keeps on its own (the tidy tests add the ones
    /// that need the rest of the tree). Each problem says how to fix it.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = vec![];
        let mut ports: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
        for (name, p) in &self.programs {
            ports.entry(p.port).or_default().push(name);
            match Kind::of_name(name) {
                Some(k) if k == p.kind => {}
                _ => problems.push(format!(
                    "[programs.{name}]: kind = \"{}\" but the name does not start with {}: rename the entry or fix its kind",
                    p.kind,
                    p.kind.prefix()
                )),
            }
            if p.port < 1024 {
                problems.push(format!(
                    "[programs.{name}]: port {} is privileged; use 81xx (servers) or 82xx (clients)",
                    p.port
                ));
            }
            for peer in &p.peers {
                if !self.programs.contains_key(peer) {
                    problems.push(format!("[programs.{name}]: peer {peer} has no [programs.{peer}] entry"));
                }
                if peer == name {
                    problems.push(format!("[programs.{name}]: lists itself as a peer"));
                }
            }
            for dep in &p.compose.depends_on {
                if !self.programs.contains_key(dep) && !INFRA.contains(&dep.as_str()) {
                    problems.push(format!(
                        "[programs.{name}.compose]: depends_on {dep}, which is neither a program of {FILE} nor one of {}",
                        INFRA.join(", ")
                    ));
                }
                if self.programs.get(dep).is_some_and(|d| d.sink.is_some()) && p.sink.is_none() {
                    problems.push(format!(
                        "[programs.{name}.compose]: depends_on {dep}, a sink every program already waits for; remove it"
                    ));
                }
            }
            if p.secrets.iter().any(|s| s == "mcp_token") {
                problems.push(format!("[programs.{name}]: mcp_token is every program's; remove it from secrets"));
            }
            let extras = !p.image.files.is_empty() || !p.image.links.0.is_empty();
            let misplaced = match p.image.base {
                Base::Scratch => false,
                Base::Debian => extras,
                Base::Toolchain => extras || !p.image.packages.is_empty(),
            };
            if misplaced {
                problems.push(format!(
                    "[programs.{name}.image]: files and links are for scratch roots (packages for scratch and debian images); a {:?} image installs what it needs in its stage",
                    p.image.base
                ));
            }
            if p.image.base == Base::Debian && p.image.packages.is_empty() {
                problems.push(format!(
                    "[programs.{name}.image]: a debian image lists the packages it installs; without any, use scratch"
                ));
            }
            for (k, v) in p.local.env.iter() {
                if let Err(e) = placeholders(v) {
                    problems.push(format!("[programs.{name}.local.env] {k}: {e}"));
                }
            }
            for (k, v) in p.compose.env.iter().chain(p.image.env.iter()) {
                if !is_env_name(k) {
                    problems.push(format!("[programs.{name}]: {k} is not an environment variable name (A-Z, 0-9, _)"));
                }
                if let Err(e) = compose_value(v) {
                    problems.push(format!("[programs.{name}.compose.env] {k}: {e}"));
                }
            }
            for peer in &p.peers {
                let var = peer_var(peer);
                if p.compose.env.iter().any(|(k, _)| k == var) || p.local.env.iter().any(|(k, _)| k == var) {
                    problems.push(format!("[programs.{name}]: {var} comes from peers; remove it from the env tables"));
                }
            }
        }
        for (port, names) in &ports {
            if names.len() > 1 {
                problems.push(format!("port {port} is used by {}: give each program its own", names.join(" and ")));
            }
        }
        // Two programs on one host port (or one variable) would fail at `up`.
        let mut published: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut host_ports: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
        for (name, p) in &self.programs {
            if let Some(pb) = &p.compose.publish {
                published.entry(&pb.var).or_default().push(name);
                host_ports.entry(pb.port).or_default().push(name);
            }
        }
        for (what, names) in published
            .iter()
            .map(|(v, n)| (v.to_string(), n))
            .chain(host_ports.iter().map(|(p, n)| (format!("host port {p}"), n)))
        {
            if names.len() > 1 {
                problems.push(format!(
                    "publish: {what} is used by {}: give each published program its own",
                    names.join(" and ")
                ));
            }
        }
        for sink in [Sink::Otlp, Sink::Logs] {
            let n = self.programs.values().filter(|p| p.sink == Some(sink)).count();
            if n > 1 {
                let which = if sink == Sink::Otlp { "otlp" } else { "logs" };
                problems.push(format!("{n} programs have sink = \"{which}\"; the fleet has one of each"));
            }
        }
        if let Err(e) = self.tiers() {
            problems.push(e.to_string());
        }
        problems
    }
}

/// `MCP_SERVER_FS_URL` for `mcp-server-fs`, `MCP_CLIENT_PLANNER_URL` for
/// `mcp-client-planner`: the variable a program reads to find that peer.
pub fn peer_var(name: &str) -> String {
    format!("{}_URL", name.replace('-', "_").to_uppercase())
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// One piece of a local environment value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text.
    Text(&'a str),
    /// `{data}`.
    Data,
    /// `{projects}`.
    Projects,
    /// `{secret:NAME}`.
    Secret(&'a str),
    /// `{rust_sysroot_bin}`.
    RustSysrootBin,
    /// `{cache}`: xtask's cache directory (the tool virtualenvs it keeps).
    Cache,
    /// `{env:NAME}` or `{env:NAME:-default}`.
    Env(&'a str, Option<&'a str>),
    /// `{as_root:VALUE}`: VALUE when `cargo xtask up` runs as root, else the
    /// variable is left out (the browser server's `BROWSER_NO_SANDBOX`:
    /// Chromium's sandbox cannot start as root). `up` says so when it applies.
    AsRoot(&'a str),
}

/// Split a local environment value into literal text and placeholders.
pub fn placeholders(value: &str) -> anyhow::Result<Vec<Piece<'_>>> {
    let mut out = vec![];
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let close = rest[open..].find('}').with_context(|| format!("unclosed {{ in {value:?}"))? + open;
        let inner = &rest[open + 1..close];
        out.push(match inner {
            "data" => Piece::Data,
            "projects" => Piece::Projects,
            "rust_sysroot_bin" => Piece::RustSysrootBin,
            "cache" => Piece::Cache,
            _ => {
                if let Some(name) = inner.strip_prefix("secret:") {
                    if name.is_empty() || name.contains('/') {
                        bail!("{{secret:NAME}} needs a file name without /");
                    }
                    Piece::Secret(name)
                } else if let Some(spec) = inner.strip_prefix("env:") {
                    let (name, default) = match spec.split_once(":-") {
                        Some((n, d)) => (n, Some(d)),
                        None => (spec, None),
                    };
                    if !is_env_name(name) {
                        bail!("{{env:{name}}}: not a variable name");
                    }
                    Piece::Env(name, default)
                } else if let Some(v) = inner.strip_prefix("as_root:") {
                    Piece::AsRoot(v)
                } else {
                    bail!(
                        "unknown placeholder {{{inner}}}; the known ones are {{data}}, {{projects}}, {{secret:NAME}}, \
                         {{rust_sysroot_bin}}, {{cache}}, {{env:NAME}}, {{env:NAME:-default}} and {{as_root:VALUE}}"
                    )
                }
            }
        });
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        bail!("unmatched }} in {value:?}");
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// What local placeholders expand to.
pub trait LocalContext {
    /// `.data/`.
    fn data(&self) -> PathBuf;
    /// `./projects`.
    fn projects(&self) -> PathBuf;
    /// The path of the secret file `name`, created if missing.
    fn secret(&self, name: &str) -> anyhow::Result<PathBuf>;
    /// The active Rust toolchain's `bin/`.
    fn rust_sysroot_bin(&self) -> anyhow::Result<PathBuf>;
    /// xtask's cache directory.
    fn cache(&self) -> PathBuf;
    /// The caller's variable.
    fn var(&self, name: &str) -> Option<String>;
    /// Whether the programs run as root.
    fn root(&self) -> bool {
        false
    }
}

/// Expand a local environment value. `None`: an `{env:NAME}` without a
/// default is unset, so the variable is left out.
pub fn expand(value: &str, cx: &dyn LocalContext) -> anyhow::Result<Option<String>> {
    let mut out = String::new();
    for piece in placeholders(value)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Data => out.push_str(&cx.data().display().to_string()),
            Piece::Projects => out.push_str(&cx.projects().display().to_string()),
            Piece::Secret(name) => out.push_str(&cx.secret(name)?.display().to_string()),
            Piece::RustSysrootBin => out.push_str(&cx.rust_sysroot_bin()?.display().to_string()),
            Piece::Cache => out.push_str(&cx.cache().display().to_string()),
            Piece::Env(name, default) => match (cx.var(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Ok(None),
            },
            Piece::AsRoot(v) if cx.root() => out.push_str(v),
            Piece::AsRoot(_) => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// One piece of a compose value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposePiece<'a> {
    /// Literal text (`$$` already turned into `$`).
    Text(String),
    /// `${NAME}`, `${NAME:-default}` or `${NAME:?message}` (default: None).
    Var(&'a str, Option<&'a str>),
}

/// Split a compose value into text and `${...}` interpolations, the subset
/// of compose's syntax this fleet uses.
pub fn compose_value(value: &str) -> anyhow::Result<Vec<ComposePiece<'_>>> {
    let mut out = vec![];
    let mut text = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            text.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let close = r.find('}').with_context(|| format!("unclosed ${{ in {value:?}"))?;
            let inner = &r[..close];
            let (name, default) = if let Some((n, d)) = inner.split_once(":-") {
                (n, Some(d))
            } else if let Some((n, _)) = inner.split_once(":?") {
                (n, None)
            } else {
                (inner, None)
            };
            if !is_env_name(name) {
                bail!(
                    "${{{inner}}} in {value:?}: only ${{NAME}}, ${{NAME:-default}} and ${{NAME:?message}} are used here"
                );
            }
            if !text.is_empty() {
                out.push(ComposePiece::Text(std::mem::take(&mut text)));
            }
            out.push(ComposePiece::Var(name, default));
            rest = &r[close + 1..];
        } else {
            bail!("a bare $ in {value:?}: write ${{NAME}}, or $$ for a dollar sign");
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(ComposePiece::Text(text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<String> {
        Manifest::parse(text).unwrap().validate()
    }

    const TWO: &str = r#"
[programs.mcp-server-a]
kind = "server"
port = 8101
sink = "logs"
image.base = "scratch"
[programs.mcp-client-b]
kind = "client"
port = 8201
sink = "otlp"
peers = ["mcp-server-a"]
image.base = "scratch"
"#;

    #[test]
    fn the_fleet_manifest_is_valid() {
        let m = Manifest::load(&crate::util::workspace_root()).unwrap();
        assert_eq!(m.validate(), Vec::<String>::new());
    }

    #[test]
    fn a_small_manifest_is_valid_and_keeps_table_order() {
        assert!(check(TWO).is_empty());
        let m = Manifest::parse(
            "[programs.mcp-server-a]\nkind = \"server\"\nport = 8101\nimage.base = \"scratch\"\n\
             [programs.mcp-server-a.compose.env]\nZ = \"1\"\nA = \"2\"\nM = \"3\"\n",
        )
        .unwrap();
        let keys: Vec<&str> = m.programs["mcp-server-a"].compose.env.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["Z", "A", "M"]);
    }

    #[test]
    fn ports_and_names_are_unique() {
        let dup_port = TWO.replace("port = 8201", "port = 8101");
        let found = check(&dup_port).join("\n");
        assert!(found.contains("port 8101 is used by mcp-client-b and mcp-server-a"), "{found}");
        // Names are table keys: TOML itself refuses a second [programs.X].
        let dup_name =
            format!("{TWO}\n[programs.mcp-server-a]\nkind = \"server\"\nport = 8105\nimage.base = \"scratch\"\n");
        assert!(Manifest::parse(&dup_name).is_err());
        // And the real manifest, sorted before it is deduplicated.
        let m = Manifest::load(&crate::util::workspace_root()).unwrap();
        let mut names: Vec<&str> = m.programs.keys().map(String::as_str).collect();
        let mut ports: Vec<u16> = m.programs.values().map(|p| p.port).collect();
        names.sort_unstable();
        names.dedup();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!((names.len(), ports.len()), (m.programs.len(), m.programs.len()));
    }

    #[test]
    fn kinds_peers_dependencies_and_cycles_are_checked() {
        let bad = TWO
            .replace("kind = \"client\"", "kind = \"server\"")
            .replace("peers = [\"mcp-server-a\"]", "peers = [\"mcp-server-zz\"]\ncompose.depends_on = [\"redis\"]");
        let found = check(&bad).join("\n");
        for want in ["kind = \"server\" but the name", "peer mcp-server-zz has no", "depends_on redis"] {
            assert!(found.contains(want), "{want:?} not in {found}");
        }
        let cycle = format!(
            "{TWO}\n[programs.mcp-server-c]\nkind = \"server\"\nport = 8103\nimage.base = \"scratch\"\n\
             compose.depends_on = [\"mcp-server-d\"]\n[programs.mcp-server-d]\nkind = \"server\"\nport = 8104\n\
             image.base = \"scratch\"\ncompose.depends_on = [\"mcp-server-c\"]\n"
        );
        let found = check(&cycle).join("\n");
        assert!(found.contains("cycle through mcp-server-c, mcp-server-d"), "{found}");
    }

    #[test]
    fn publish_is_a_variable_and_a_port() {
        let with = |v: &str| format!("{TWO}compose.publish = \"{v}\"\n");
        let m = Manifest::parse(&with("B_PORT:8201")).unwrap();
        let p = m.programs["mcp-client-b"].compose.publish.clone().unwrap();
        assert_eq!(p, Publish { var: "B_PORT".into(), port: 8201 });
        assert_eq!(p.compose(), "${B_PORT:-8201}");
        for (bad, why) in [
            ("8201", "VAR:PORT"),
            ("b_port:8201", "not an upper-case variable name"),
            ("B_PORT:http", "not a port number"),
            ("B_PORT:80", "privileged"),
        ] {
            let e = Manifest::parse(&with(bad)).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        // Two programs on one host port.
        let both = with("B_PORT:8201").replace("sink = \"logs\"", "sink = \"logs\"\ncompose.publish = \"A_PORT:8201\"");
        let found = check(&both).join("\n");
        assert!(found.contains("host port 8201 is used by mcp-client-b and mcp-server-a"), "{found}");
    }

    #[test]
    fn tiers_follow_the_sinks_and_depends_on() {
        let m = Manifest::load(&crate::util::workspace_root()).unwrap();
        let t = m.tiers().unwrap();
        assert_eq!(t["mcp-server-log"], 0);
        assert_eq!(t["mcp-client-observer"], 0);
        assert_eq!(t["mcp-server-fs"], 1);
        assert!(t["mcp-client-planner"] > t["mcp-server-git"]);
        assert!(t["mcp-client-llm-agent"] > t["mcp-client-planner"]);
    }

    #[test]
    fn local_placeholders_expand() {
        struct Cx;
        impl LocalContext for Cx {
            fn data(&self) -> PathBuf {
                "/d".into()
            }
            fn projects(&self) -> PathBuf {
                "/p".into()
            }
            fn secret(&self, name: &str) -> anyhow::Result<PathBuf> {
                Ok(Path::new("/d").join(name))
            }
            fn rust_sysroot_bin(&self) -> anyhow::Result<PathBuf> {
                Ok("/rust/bin".into())
            }
            fn cache(&self) -> PathBuf {
                "/c".into()
            }
            fn var(&self, name: &str) -> Option<String> {
                (name == "SET").then(|| "yes".into())
            }
        }
        let x = |v: &str| expand(v, &Cx).unwrap();
        assert_eq!(x("sqlite:{data}/a.db").as_deref(), Some("sqlite:/d/a.db"));
        assert_eq!(x("{rust_sysroot_bin}:/bin").as_deref(), Some("/rust/bin:/bin"));
        assert_eq!(x("{secret:k}").as_deref(), Some("/d/k"));
        assert_eq!(x("{projects}").as_deref(), Some("/p"));
        assert_eq!(x("{cache}/lint-tools/bin").as_deref(), Some("/c/lint-tools/bin"));
        assert_eq!(x("{env:SET}").as_deref(), Some("yes"));
        assert_eq!(x("{env:UNSET:-@localhost}").as_deref(), Some("@localhost"));
        assert_eq!(x("{env:UNSET}"), None);
        // Not root (the default): the variable is left out; as root, the value.
        assert_eq!(x("{as_root:true}"), None);
        struct Root;
        impl LocalContext for Root {
            fn data(&self) -> PathBuf {
                Cx.data()
            }
            fn projects(&self) -> PathBuf {
                Cx.projects()
            }
            fn secret(&self, name: &str) -> anyhow::Result<PathBuf> {
                Cx.secret(name)
            }
            fn rust_sysroot_bin(&self) -> anyhow::Result<PathBuf> {
                Cx.rust_sysroot_bin()
            }
            fn cache(&self) -> PathBuf {
                Cx.cache()
            }
            fn var(&self, name: &str) -> Option<String> {
                Cx.var(name)
            }
            fn root(&self) -> bool {
                true
            }
        }
        assert_eq!(expand("{as_root:true}", &Root).unwrap().as_deref(), Some("true"));
        assert!(placeholders("{home}").unwrap_err().to_string().contains("unknown placeholder {home}"));
        assert!(placeholders("{data").is_err());
    }

    #[test]
    fn compose_values_split_into_text_and_variables() {
        use ComposePiece::*;
        assert_eq!(
            compose_value("postgres://fleet:${FLEET_DB_PASSWORD}@postgres/x").unwrap(),
            [Text("postgres://fleet:".into()), Var("FLEET_DB_PASSWORD", None), Text("@postgres/x".into())]
        );
        assert_eq!(compose_value("${A:-x:y}$$").unwrap(), [Var("A", Some("x:y")), Text("$".into())]);
        assert_eq!(compose_value("${A:?set A}").unwrap(), [Var("A", None)]);
        assert!(compose_value("$A").is_err());
        assert!(compose_value("${a-b}").is_err());
    }
}
