//! `cargo xtask images`: every image `docker-compose.yml` runs, built on a
//! machine that cannot pull any image, plus the compose scenario that proves
//! the composed fleet works.
//!
//! The project's machines have a Docker Engine but no registry, so nothing
//! can start `FROM debian`. Instead:
//!
//! 1. `mcp-fleet/debian:bookworm` — a minimal Debian root made with
//!    `debootstrap --variant=minbase` (Debian's mirrors are reachable), made
//!    current with the bookworm security updates, trimmed like Debian's
//!    `-slim` images, and loaded with `docker import`. Built once; kept
//!    unless `--rebuild-base`.
//! 2. `mcp-fleet/{mail,postgres,prometheus}` — Debian packages on that base
//!    (`docker/<service>/Dockerfile`).
//! 3. `mcp-fleet/toolchain` and one `mcp-fleet/<program>` per program of the
//!    workspace — `docker/Dockerfile`, one target each, from binaries built
//!    on the host (`cargo build --release`; with `--debug-binaries`, the
//!    debug binaries already in the target directory, stripped of their
//!    debug sections, and nothing is built).
//!
//! A dev box with registry access builds the same Dockerfiles from official
//! bases through `docker compose build` instead (see ARCHITECTURE.md,
//! "Images and compose"). Every Dockerfile sticks to what the legacy builder
//! understands: these machines have no buildx.
//!
//! Finally the secret files compose mounts are created where missing
//! (`secrets/`, or `FLEET_SECRETS_DIR`): random tokens, and the dev mail
//! accounts' documented passwords (`.env.example`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::fleet;
use crate::util::{cache_dir, have, output, run, target_dir};

/// The base every other image starts from (offline).
pub const BASE_IMAGE: &str = "mcp-fleet/debian:bookworm";
/// The base of the images of programs that run toolchains.
pub const TOOLCHAIN_IMAGE: &str = "mcp-fleet/toolchain";
/// The service images and their build contexts (each has a Dockerfile).
pub const SERVICES: &[(&str, &str)] =
    &[("mail", "docker/mail"), ("postgres", "docker/postgres"), ("prometheus", "docker/prometheus")];
/// Debian's mirrors, overridable for a local mirror or proxy.
const MIRROR_VAR: &str = "FLEET_DEBIAN_MIRROR";
const SECURITY_MIRROR_VAR: &str = "FLEET_DEBIAN_SECURITY_MIRROR";

/// The dev mail accounts (MAIL_USERS in docker-compose.yml) and the
/// passwords written into their secret files when those are missing. Dev
/// defaults only, documented in `.env.example`; replace the files for
/// anything but a throw-away dev box.
pub const MAIL_ACCOUNTS: &[(&str, &str)] = &[("agent", "agent-dev-password"), ("alice", "alice-dev-password")];

/// What `cargo xtask images` builds and from what.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Use the debug binaries already in `<target>/debug` and build nothing.
    pub debug_binaries: bool,
    /// Debootstrap the base again even when the image exists.
    pub rebuild_base: bool,
    /// Cargo's target directory (default: `CARGO_TARGET_DIR`, else `target/`).
    pub target_dir: Option<PathBuf>,
    /// Image tag (default: `FLEET_TAG`, else `latest`).
    pub tag: Option<String>,
}

impl Options {
    fn tag(&self) -> String {
        self.tag.clone().or_else(|| std::env::var("FLEET_TAG").ok()).unwrap_or_else(|| "latest".into())
    }
}

/// One image built, with its size in bytes.
#[derive(Debug, Clone)]
pub struct Built {
    /// `name:tag`.
    pub image: String,
    /// Size as `docker image ls` counts it.
    pub bytes: u64,
}

/// Build every image; returns them with their sizes, which are also printed.
pub fn images(root: &Path, opts: &Options) -> anyhow::Result<Vec<Built>> {
    docker_ready()?;
    base(opts.rebuild_base)?;
    let tag = opts.tag();
    let mut built = vec![inspect(BASE_IMAGE)?];
    for (name, dir) in SERVICES {
        let image = format!("mcp-fleet/{name}:{tag}");
        eprintln!("\n==> image {image}");
        docker_build(&root.join(dir), &root.join(dir).join("Dockerfile"), None, &image)?;
        built.push(inspect(&image)?);
    }

    let programs = binaries(root, opts)?;
    let ctx = stage(root, &programs, opts.debug_binaries)?;
    let dockerfile = root.join("docker/Dockerfile");
    let toolchain = format!("{TOOLCHAIN_IMAGE}:{tag}");
    eprintln!("\n==> image {toolchain}");
    docker_build(&ctx, &dockerfile, Some("toolchain"), &toolchain)?;
    built.push(inspect(&toolchain)?);
    for (name, _) in &programs {
        let image = format!("mcp-fleet/{name}:{tag}");
        eprintln!("\n==> image {image}");
        docker_build(&ctx, &dockerfile, Some(name.as_str()), &image)?;
        built.push(inspect(&image)?);
    }

    let created = ensure_secrets(root)?;
    eprintln!("\nimages (sizes as `docker image ls` counts them):");
    for b in &built {
        eprintln!("  {:<44} {:>7.1} MB", b.image, b.bytes as f64 / 1e6);
    }
    if !created.is_empty() {
        eprintln!("created secret files: {}", created.join(", "));
    }
    Ok(built)
}

fn docker_ready() -> anyhow::Result<()> {
    if !have("docker") {
        bail!("docker is not installed: the images need a Docker Engine (see ansible/ for a dev box)");
    }
    output(Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]))
        .context("the Docker daemon does not answer")?;
    Ok(())
}

fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn inspect(image: &str) -> anyhow::Result<Built> {
    let size = output(Command::new("docker").args(["image", "inspect", "--format", "{{.Size}}", image]))?;
    Ok(Built { image: image.to_owned(), bytes: size.trim().parse().with_context(|| format!("size of {image}"))? })
}

/// `docker build` with the offline arguments: the local base, prebuilt binaries.
fn docker_build(ctx: &Path, dockerfile: &Path, target: Option<&str>, image: &str) -> anyhow::Result<()> {
    let mut c = Command::new("docker");
    c.args(["build", "--quiet", "--file"])
        .arg(dockerfile)
        .args(["--build-arg", &format!("BASE={BASE_IMAGE}")])
        .args(["--build-arg", &format!("BUILDER={BASE_IMAGE}")])
        .args(["--build-arg", "BINARIES=prebuilt"])
        .args(["--tag", image]);
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    // --quiet still prints the image id on stdout; errors go to stderr.
    c.arg(ctx).stdout(Stdio::null());
    run(&mut c)
}

/// The base image, made when missing (for the tests that build images).
pub fn base_image() -> anyhow::Result<()> {
    docker_ready()?;
    base(false)
}

/// The base image: debootstrap, update, trim, import.
fn base(rebuild: bool) -> anyhow::Result<()> {
    if image_exists(BASE_IMAGE) && !rebuild {
        eprintln!("{BASE_IMAGE} exists; kept (--rebuild-base makes it again)");
        return Ok(());
    }
    if !have("debootstrap") {
        crate::provision::apt(&["debootstrap"])?;
    }
    let mirror = std::env::var(MIRROR_VAR).unwrap_or_else(|_| "http://deb.debian.org/debian".into());
    let security =
        std::env::var(SECURITY_MIRROR_VAR).unwrap_or_else(|_| "http://deb.debian.org/debian-security".into());
    let dir = cache_dir().join("images/rootfs");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.parent().context("rootfs parent")?)?;
    eprintln!("\n==> debootstrap bookworm into {} (about a minute)", dir.display());
    run(Command::new("debootstrap")
        .args(["--variant=minbase", "--include=ca-certificates", "bookworm"])
        .arg(&dir)
        .arg(&mirror)
        .stdout(Stdio::null()))?;

    // Trimmed like Debian's -slim images: no manuals, docs (copyright files
    // stay) or translations, now and in every package installed later.
    let etc = dir.join("etc");
    std::fs::write(
        etc.join("dpkg/dpkg.cfg.d/01-fleet-slim"),
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n\
         path-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n\
         path-exclude /usr/share/lintian/*\n",
    )?;
    std::fs::write(
        etc.join("apt/apt.conf.d/01-fleet"),
        "APT::Install-Recommends \"false\";\nAPT::Install-Suggests \"false\";\nAcquire::Languages \"none\";\n",
    )?;
    std::fs::write(
        etc.join("apt/sources.list"),
        format!(
            "deb {mirror} bookworm main\ndeb {mirror} bookworm-updates main\ndeb {security} bookworm-security main\n"
        ),
    )?;
    // The security updates, inside the new root (debootstrap installs the
    // release as it was).
    std::fs::copy("/etc/resolv.conf", etc.join("resolv.conf"))?;
    run(Command::new("chroot")
        .arg(&dir)
        .args(["sh", "-c", "apt-get update -qq && apt-get -y -qq upgrade && apt-get clean"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null()))?;
    for f in ["resolv.conf", "hostname"] {
        let _ = std::fs::remove_file(etc.join(f));
    }
    for sub in ["usr/share/doc", "usr/share/man", "usr/share/info", "var/lib/apt/lists", "var/log"] {
        empty_dir(&dir.join(sub), &["copyright"])?;
    }
    empty_dir(&dir.join("usr/share/locale"), &["locale.alias"])?;
    for f in ["var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin"] {
        let _ = std::fs::remove_file(dir.join(f));
    }

    eprintln!("==> docker import {BASE_IMAGE}");
    let mut tar = Command::new("tar")
        .args(["--numeric-owner", "-C"])
        .arg(&dir)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start tar")?;
    let stdin = tar.stdout.take().context("tar stdout")?;
    let status = Command::new("docker")
        .args([
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8",
            "--change",
            "CMD [\"/bin/bash\"]",
            "-",
            BASE_IMAGE,
        ])
        .stdin(stdin)
        .stdout(Stdio::null())
        .status()
        .context("cannot start docker import")?;
    if !tar.wait()?.success() || !status.success() {
        bail!("importing {} as {BASE_IMAGE} failed", dir.display());
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Remove everything in `dir` except files (at any depth) named in `keep`.
fn empty_dir(dir: &Path, keep: &[&str]) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries {
        let e = e?;
        let p = e.path();
        let name = e.file_name();
        if e.file_type()?.is_dir() {
            empty_dir(&p, keep)?;
            if std::fs::read_dir(&p)?.next().is_none() {
                std::fs::remove_dir(&p)?;
            }
        } else if !keep.iter().any(|k| name == *k) {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// The programs to package and where their binaries are. Release: built now.
/// Debug: what is already there; a program without a binary is skipped.
fn binaries(root: &Path, opts: &Options) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let present = fleet::present(root)?;
    let dockerfile = std::fs::read_to_string(root.join("docker/Dockerfile"))?;
    for (name, _) in &present {
        if !dockerfile.lines().any(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {name}"))) {
            bail!("docker/Dockerfile has no target for {name}: run `cargo xtask codegen` (fleet.toml has its entry)");
        }
    }
    let target = opts.target_dir.clone().unwrap_or_else(|| target_dir(root));
    let profile = if opts.debug_binaries {
        "debug"
    } else {
        let mut args = vec!["build", "--release", "--locked"];
        for (n, _) in &present {
            args.extend(["-p", n.as_str()]);
        }
        let target_s = target.display().to_string();
        crate::util::cargo(root, &args, &[("CARGO_TARGET_DIR", &target_s)])?;
        "release"
    };
    let mut out = vec![];
    for (name, _) in present {
        let bin = target.join(profile).join(&name);
        if bin.is_file() {
            out.push((name, bin));
        } else if opts.debug_binaries {
            eprintln!("warning: {} is missing; no image for {name}", bin.display());
        } else {
            bail!("{} is missing after the build", bin.display());
        }
    }
    if out.is_empty() {
        bail!("no program binaries in {}", target.join(profile).display());
    }
    Ok(out)
}

/// The build context for `docker/Dockerfile` in prebuilt mode: collect.sh
/// and the binaries, nothing else (a small context is sent fast).
fn stage(root: &Path, programs: &[(String, PathBuf)], debug: bool) -> anyhow::Result<PathBuf> {
    let ctx = cache_dir().join("images/context");
    if ctx.exists() {
        std::fs::remove_dir_all(&ctx)?;
    }
    let dist = ctx.join("docker/dist");
    std::fs::create_dir_all(&dist)?;
    std::fs::copy(root.join("docker/collect.sh"), ctx.join("docker/collect.sh"))?;
    lint_wheels(root, &ctx.join("docker/wheels"));
    host_ca(&ctx.join("docker/host-ca"))?;
    for (name, bin) in programs {
        let dest = dist.join(name);
        // Debug binaries carry line tables (hundreds of MB for the fleet);
        // images do not need them. Release binaries are stripped by cargo.
        if debug && have("strip") {
            run(Command::new("strip").arg("--strip-debug").arg("-o").arg(&dest).arg(bin))?;
        } else {
            std::fs::copy(bin, &dest)?;
        }
    }
    Ok(ctx)
}

/// The host's certificate-authority bundle (`SSL_CERT_FILE`, else Debian's
/// `/etc/ssl/certs/ca-certificates.crt`), staged for the images: what the
/// host trusts, the programs trust — on a host behind a TLS-inspecting proxy
/// that is the proxy's authority, without which the registry server could
/// not reach PyPI from its container. Said aloud; a host without a bundle
/// leaves the images with Debian's.
fn host_ca(into: &Path) -> anyhow::Result<()> {
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt")).filter(|p| p.is_file()));
    match bundle {
        Some(b) => {
            std::fs::create_dir_all(into)?;
            std::fs::copy(&b, into.join("ca-certificates.crt"))
                .with_context(|| format!("copying the host's certificate bundle {}", b.display()))?;
            eprintln!("images trust the host's certificate authorities ({})", b.display());
        }
        None => eprintln!("no certificate bundle on the host: the images trust Debian's authorities"),
    }
    Ok(())
}

/// The wheels of the PyPI linters the toolchain image installs
/// (`crates/servers/lint/tests/tools.txt`), downloaded here with the host's
/// pip settings — a build container does not share the host's PyPI access
/// (a proxy and its certificate authority, say). Kept in the cache per pin
/// list. A failure is a warning: the image then tries PyPI itself and, that
/// failing too, goes without them (the lint server says they are missing).
fn lint_wheels(root: &Path, into: &Path) {
    let get = || -> anyhow::Result<()> {
        let req = root.join("crates/servers/lint/tests/tools.txt");
        let pins = std::fs::read_to_string(&req)?;
        let cache = cache_dir().join("images/wheels");
        let stamp = cache.join(".requirements");
        if !std::fs::read_to_string(&stamp).is_ok_and(|s| s == pins) {
            let _ = std::fs::remove_dir_all(&cache);
            std::fs::create_dir_all(&cache)?;
            let venv = crate::provision::lint_tools(root)?;
            run(Command::new(venv.join("bin/pip"))
                .args(["download", "-q", "--no-deps", "--only-binary=:all:", "-d"])
                .arg(&cache)
                .arg("-r")
                .arg(&req))?;
            std::fs::write(&stamp, &pins)?;
        }
        std::fs::create_dir_all(into)?;
        for e in std::fs::read_dir(&cache)?.flatten() {
            if e.path().extension().is_some_and(|x| x == "whl") {
                std::fs::copy(e.path(), into.join(e.file_name()))?;
            }
        }
        Ok(())
    };
    if let Err(e) = get() {
        eprintln!("warning: the lint tools' wheels could not be downloaded ({e:#}); the toolchain image tries PyPI");
    }
}

/// The secrets directory compose reads (`FLEET_SECRETS_DIR`, else `secrets/`).
pub fn secrets_dir(root: &Path) -> PathBuf {
    match std::env::var_os("FLEET_SECRETS_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => root.join(d),
        None => root.join("secrets"),
    }
}

/// Create the secret files compose mounts that do not exist yet; returns
/// their names. The folder is 0700 (only its owner can reach the files on
/// the host) and the files 0644, because the containers read them as their
/// own non-root users and compose (outside swarm) bind-mounts them as they are.
pub fn ensure_secrets(root: &Path) -> anyhow::Result<Vec<String>> {
    ensure_secrets_in(&secrets_dir(root))
}

/// [`ensure_secrets`] in a given folder (the tidy tests check in a scratch
/// one that every secret compose declares is made).
pub fn ensure_secrets_in(dir: &Path) -> anyhow::Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let mut wanted: Vec<(String, String)> = vec![
        ("mcp_token".into(), random_hex(32)?),
        ("email_token_secret".into(), random_hex(32)?),
        ("gateway_key_secret".into(), random_hex(32)?),
        ("grafana_admin_password".into(), random_hex(16)?),
        // Only sent with LLM_PROVIDER=openai; Ollama ignores it. Put a hosted
        // API's key here to use one.
        ("llm_api_key".into(), "ollama".into()),
    ];
    for (user, pw) in MAIL_ACCOUNTS {
        wanted.push((format!("mail_password_{user}"), (*pw).to_owned()));
    }
    let mut created = vec![];
    for (name, value) in wanted {
        let path = dir.join(&name);
        if path.exists() {
            continue;
        }
        let mut f = std::fs::File::create(&path)?;
        writeln!(f, "{value}")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        created.push(name);
    }
    Ok(created)
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// How to run compose here: the v2 plugin (`docker compose`) or the v1
/// `docker-compose` (what Debian bookworm packages). Both take the same
/// arguments for what is used here (`up --detach --no-build`, `ps`, `logs`,
/// `down`); v1 has no `up --wait`, hence [`wait_healthy`].
pub fn compose_command() -> anyhow::Result<Vec<String>> {
    let ok = |c: &mut Command| c.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if ok(Command::new("docker").args(["compose", "version"])) {
        return Ok(vec!["docker".into(), "compose".into()]);
    }
    if ok(Command::new("docker-compose").arg("version")) {
        return Ok(vec!["docker-compose".into()]);
    }
    bail!("neither `docker compose` nor `docker-compose` works")
}

/// Wait until every container of compose project `project` runs and is
/// healthy (or has no health check); fails on one that exits or turns
/// unhealthy. Works with both compose versions (v1 has no `up --wait`).
pub fn wait_healthy(project: &str, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let ids = output(Command::new("docker").args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
        ]))?;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            bail!("compose project {project} has no containers");
        }
        let mut args = vec![
            "inspect",
            "--format",
            "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
        ];
        args.extend(&ids);
        let states = output(Command::new("docker").args(&args))?;
        let mut waiting = vec![];
        for line in states.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [name, status, health] = f[..] else { continue };
            match (status, health) {
                ("running", "healthy" | "none") => {}
                ("exited" | "dead", _) | (_, "unhealthy") => bail!("{name} is {status}/{health}"),
                _ => waiting.push(format!("{name} ({status}/{health})")),
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!("not healthy after {timeout:?}: {}", waiting.join(", "));
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The composed fleet end to end: build the images, bring the fleet up
/// under its own project name (so a developer's running fleet is left
/// alone) with its own projects folder and free ports, wait until every
/// container is healthy, run `tests/compose` (an email in, a reply with the
/// commit out), and tear everything down, volumes included, whatever
/// happened. `cargo xtask test` runs it on the debug binaries its build
/// step made (packaging them takes seconds; a release build would add many
/// minutes to every CI run), so CI exercises the same images and compose file
/// a project machine builds with `cargo xtask images`.
pub fn compose_scenario(root: &Path, debug_binaries: bool) -> anyhow::Result<()> {
    scenario(root, &Options { debug_binaries, ..Options::default() })
}

/// The group of the engine's socket, which the docker server joins in
/// compose (`DOCKER_GID`); `0` when it cannot be read.
pub fn docker_gid() -> String {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/var/run/docker.sock").map(|m| m.gid().to_string()).unwrap_or_else(|_| "0".into())
}

/// [`compose_scenario`] with the images built as `opts` says.
fn scenario(root: &Path, opts: &Options) -> anyhow::Result<()> {
    images(root, opts)?;
    let venv = crate::provision::venv(root)?;
    let compose = compose_command()?;
    let project = "mcp-fleet-scenario";
    let projects = cache_dir().join("scenario/projects");
    if projects.exists() {
        std::fs::remove_dir_all(&projects)?;
    }
    std::fs::create_dir_all(&projects)?;
    // The fs, git and shell containers run as 10001 and write there.
    std::os::unix::fs::chown(&projects, Some(10001), Some(10001))?;
    let port = || -> anyhow::Result<u16> { Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()) };
    let gateway_port = port()?;
    let env: Vec<(String, String)> = vec![
        ("COMPOSE_PROJECT_NAME".into(), project.into()),
        ("FLEET_DB_PASSWORD".into(), random_hex(16)?),
        ("FLEET_PROJECTS_DIR".into(), projects.display().to_string()),
        ("FLEET_SECRETS_DIR".into(), secrets_dir(root).display().to_string()),
        ("MAIL_IMAP_PORT".into(), port()?.to_string()),
        ("MAIL_SMTP_PORT".into(), port()?.to_string()),
        ("MAIL_SUBMISSION_PORT".into(), port()?.to_string()),
        ("PROMETHEUS_PORT".into(), port()?.to_string()),
        ("GATEWAY_PORT".into(), gateway_port.to_string()),
        ("GATEWAY_ORIGINS".into(), format!("http://127.0.0.1:{gateway_port}")),
        ("COMPOSE_PROFILES".into(), String::new()),
        ("DOCKER_GID".into(), docker_gid()),
        ("DOCKER_INSTANCE".into(), project.into()),
    ];
    let compose_run = |args: &[&str]| -> anyhow::Result<()> {
        let mut c = Command::new(&compose[0]);
        c.args(&compose[1..]).args(["--file"]).arg(root.join("docker-compose.yml")).args(args).current_dir(root);
        c.envs(env.iter().map(|(k, v)| (k, v)));
        run(&mut c)
    };
    let result = (|| -> anyhow::Result<()> {
        // Timed from `up`: docker-compose v1's `up` itself waits for each
        // dependency's health before creating the next container.
        let start = Instant::now();
        compose_run(&["up", "--detach", "--no-build"])?;
        wait_healthy(project, Duration::from_secs(300))?;
        eprintln!("compose up -> all healthy: {:.1} s", start.elapsed().as_secs_f64());
        let mut pytest = Command::new(venv.join("bin/python"));
        pytest.args(["-m", "pytest", "-q", "tests/compose"]).current_dir(root);
        pytest.envs(env.iter().map(|(k, v)| (k, v)));
        pytest.env("MAIL_REQUESTER_PASSWORD_FILE", secrets_dir(root).join("mail_password_alice"));
        run(&mut pytest)
    })();
    if result.is_err() {
        let _ = compose_run(&["ps"]);
        let _ = compose_run(&["logs", "--tail", "60"]);
    }
    // What the docker server made for the scenario (the deployed services,
    // their networks and images) outlives compose: removed by its label —
    // first, because the deployed services hold the `apps` network, which
    // compose could not remove under them; again after, for that network.
    let label = format!("io.mcp-fleet.managed-by={project}");
    remove_labelled(&label);
    let down = compose_run(&["down", "--volumes", "--remove-orphans"]);
    remove_labelled(&label);
    result.and(down)
}

/// Remove every container, network, volume and image carrying `label`
/// (best effort; what fails to go is said).
fn remove_labelled(label: &str) {
    let filter = format!("label={label}");
    let list = |args: &[&str]| -> Vec<String> {
        Command::new("docker")
            .args(args)
            .args(["--filter", &filter])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let steps: [(&[&str], &[&str]); 4] = [
        (&["ps", "-aq"], &["rm", "-f"]),
        (&["network", "ls", "-q"], &["network", "rm"]),
        (&["volume", "ls", "-q"], &["volume", "rm", "-f"]),
        (&["images", "-q"], &["rmi", "-f"]),
    ];
    for (ls, rm) in steps {
        let ids = list(ls);
        if ids.is_empty() {
            continue;
        }
        let ok = Command::new("docker").args(rm).args(&ids).output().is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("warning: `docker {}` of what {label} labels did not remove everything", rm.join(" "));
        }
    }
}
