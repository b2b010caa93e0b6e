//! Image builds: the context directory (under the bind roots) as a tar made
//! by the `tar` crate without following symlinks — a link whose target
//! leaves the context (absolute, or `..` past its top) refuses the build,
//! links inside it are stored as links — and the legacy builder's stream,
//! reported as progress (`Step N/M`) and returned as a capped log. The
//! context's `.dockerignore` is honoured. `RUN`
//! steps build with no network and one CPU's quota.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use bollard::body_full;
use bollard::query_parameters::BuildImageOptions;
use futures::StreamExt;
use mcp_core::{Ctx, ToolError};

use crate::engine::{Engine, api, tail};
use crate::policy::{Masker, deny};

/// Largest context sent to the engine.
const MAX_CONTEXT: u64 = 512 << 20;
/// Most entries in a context.
const MAX_ENTRIES: usize = 50_000;

/// A finished build.
#[derive(Debug)]
pub struct Built {
    /// The image id.
    pub id: String,
    /// The tag.
    pub tag: String,
    /// The builder's output (capped, masked).
    pub log: String,
    /// The log was cut.
    pub truncated: bool,
}

/// Tar the context. `dockerfile` is relative to it and must be inside.
pub fn context_tar(dir: &Path, dockerfile: &str) -> Result<Vec<u8>, ToolError> {
    let df = Path::new(dockerfile);
    if df.is_absolute() || df.components().any(|c| c == Component::ParentDir) || dockerfile.is_empty() {
        return Err(deny(
            "build-context",
            format!("dockerfile {dockerfile:?} must be a relative path inside the context"),
        ));
    }
    if !dir.join(df).is_file() {
        return Err(ToolError::not_found(format!("no {dockerfile} in the build context")));
    }
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    let mut size = 0u64;
    let mut count = 0usize;
    let ignore = dockerignore(dir, df)?;
    add_dir(&mut b, dir, Path::new(""), &mut size, &mut count, &ignore)?;
    b.into_inner().map_err(ToolError::internal)
}

/// What the context's `.dockerignore` leaves out, as the engine's CLI would:
/// patterns relative to the context's top (a Docker pattern is anchored,
/// unlike a gitignore one, so each gets a leading `/` unless it starts with
/// `**`), `!` re-includes; the Dockerfile and `.dockerignore` are always
/// sent. What is left out is neither tarred nor checked (a project's
/// `.venv` links to the host's interpreter, outside the context).
struct Ignore {
    matcher: Option<ignore::gitignore::Gitignore>,
    keep: Vec<std::path::PathBuf>,
}

impl Ignore {
    fn skips(&self, rel: &Path, is_dir: bool) -> bool {
        if self.keep.iter().any(|k| k == rel) {
            return false;
        }
        self.matcher.as_ref().is_some_and(|m| m.matched_path_or_any_parents(rel, is_dir).is_ignore())
    }
}

fn dockerignore(dir: &Path, dockerfile: &Path) -> Result<Ignore, ToolError> {
    let keep = vec![dockerfile.to_path_buf(), std::path::PathBuf::from(".dockerignore")];
    let file = dir.join(".dockerignore");
    let Ok(text) = std::fs::read_to_string(&file) else { return Ok(Ignore { matcher: None, keep }) };
    let mut g = ignore::gitignore::GitignoreBuilder::new(dir);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (neg, p) = match line.strip_prefix('!') {
            Some(rest) => ("!", rest.trim()),
            None => ("", line),
        };
        let p = p.trim_start_matches("./").trim_start_matches('/');
        let anchored = if p.starts_with("**") { p.to_owned() } else { format!("/{p}") };
        g.add_line(None, &format!("{neg}{anchored}"))
            .map_err(|e| ToolError::invalid(format!(".dockerignore: {line:?}: {e}")))?;
    }
    let matcher = g.build().map_err(|e| ToolError::invalid(format!(".dockerignore: {e}")))?;
    Ok(Ignore { matcher: Some(matcher), keep })
}

fn add_dir(
    b: &mut tar::Builder<Vec<u8>>,
    root: &Path,
    rel: &Path,
    size: &mut u64,
    count: &mut usize,
    ignore: &Ignore,
) -> Result<(), ToolError> {
    let here = root.join(rel);
    let mut entries: Vec<_> = std::fs::read_dir(&here)
        .map_err(|e| ToolError::invalid(format!("{}: {e}", here.display())))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        *count += 1;
        if *count > MAX_ENTRIES {
            return Err(ToolError::invalid(format!("the build context has more than {MAX_ENTRIES} entries")));
        }
        let name = rel.join(e.file_name());
        let full = root.join(&name);
        let meta = std::fs::symlink_metadata(&full).map_err(ToolError::internal)?;
        let ft = meta.file_type();
        if ignore.skips(&name, ft.is_dir()) {
            continue;
        }
        if ft.is_symlink() {
            let target = std::fs::read_link(&full).map_err(ToolError::internal)?;
            if escapes(rel, &target) {
                return Err(deny(
                    "build-context",
                    format!(
                        "{} is a symlink to {} outside the build context; it is not followed",
                        name.display(),
                        target.display()
                    ),
                ));
            }
            b.append_path_with_name(&full, &name).map_err(ToolError::internal)?;
        } else if ft.is_dir() {
            b.append_path_with_name(&full, &name).map_err(ToolError::internal)?;
            add_dir(b, root, &name, size, count, ignore)?;
        } else if ft.is_file() {
            *size += meta.len();
            if *size > MAX_CONTEXT {
                return Err(ToolError::invalid(format!("the build context is larger than {MAX_CONTEXT} bytes")));
            }
            b.append_path_with_name(&full, &name).map_err(ToolError::internal)?;
        }
        // Sockets, fifos and devices are left out.
    }
    Ok(())
}

/// Does a link in `dir` (relative to the context) pointing at `target` leave the context?
fn escapes(dir: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return true;
    }
    let mut depth: i64 = dir.components().filter(|c| matches!(c, Component::Normal(_))).count() as i64;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// Build `tag` from `context` (a path under the bind roots).
pub async fn build(
    e: &Engine,
    context: &str,
    dockerfile: Option<&str>,
    tag: &str,
    build_args: &HashMap<String, String>,
    nocache: bool,
    ctx: &Ctx,
) -> Result<Built, ToolError> {
    e.policy.image(tag).map_err(|err| match err {
        ToolError::Denied(m) => ToolError::denied(m.replacen("image-allow-list", "image-tag", 1)),
        other => other,
    })?;
    let dir: PathBuf = e.policy.local_path(context)?;
    if !dir.is_dir() {
        return Err(ToolError::invalid(format!("{context} is not a directory")));
    }
    let dockerfile = dockerfile.unwrap_or("Dockerfile").to_owned();
    let df = dockerfile.clone();
    let tar = mcp_core::tool::blocking(move || context_tar(&dir, &df)).await?;
    let masker = Masker::from_env(build_args.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let opts = BuildImageOptions {
        dockerfile,
        t: Some(tag.to_owned()),
        rm: true,
        forcerm: true,
        nocache,
        buildargs: (!build_args.is_empty()).then(|| build_args.clone()),
        labels: Some(e.policy.labels()),
        // A Dockerfile's RUN steps are code nobody reviewed, run by the
        // engine as the image's user (root by default) outside the create
        // policy: they get no network (a context is built from what is in
        // it; the images allowed here are local) and one CPU's quota.
        networkmode: Some("none".to_owned()),
        cpuperiod: Some(100_000),
        cpuquota: Some(100_000),
        ..Default::default()
    };
    let stream = e.docker.build_image(opts, None, Some(body_full(tar.into())));
    futures::pin_mut!(stream);
    let mut log = String::new();
    let mut id = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|err| match err {
            bollard::errors::Error::DockerStreamError { error } => {
                ToolError::failed(format!("build failed: {}", masker.mask(&error)))
            }
            other => api(other),
        })?;
        if let Some(d) = info.error_detail {
            let msg = d.message.unwrap_or_default();
            let (t, _) = tail(&masker.mask(&log), 4000);
            return Err(ToolError::failed(format!("build failed: {}\n{t}", masker.mask(&msg))));
        }
        if let Some(s) = info.stream {
            if let Some(rest) = s.strip_prefix("Step ")
                && let Some((n, rest)) = rest.split_once('/')
                && let (Ok(n), Some(m)) =
                    (n.trim().parse::<f64>(), rest.split_whitespace().next().and_then(|m| m.parse::<f64>().ok()))
            {
                ctx.progress(n, Some(m), Some(masker.mask(s.trim()))).await;
            }
            log.push_str(&s);
            if log.len() > 4 * e.config.max_output {
                let (t, _) = tail(&log, 2 * e.config.max_output);
                log = t;
            }
        }
        if let Some(a) = info.aux
            && let Some(i) = a.id
        {
            id = Some(i);
        }
    }
    let id = match id {
        Some(i) => i,
        None => e.docker.inspect_image(tag).await.map_err(api)?.id.unwrap_or_default(),
    };
    let (log, truncated) = tail(&masker.mask(&log), e.config.max_output);
    Ok(Built { id, tag: tag.to_owned(), log, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_that_leave_the_context_refuse_it() {
        assert!(escapes(Path::new(""), Path::new("/etc/passwd")));
        assert!(escapes(Path::new(""), Path::new("../x")));
        assert!(escapes(Path::new("a"), Path::new("../../x")));
        assert!(!escapes(Path::new("a"), Path::new("../b")));
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("../Dockerfile", d.path().join("sub/ok")).unwrap();
        let t = context_tar(d.path(), "Dockerfile").unwrap();
        let mut a = tar::Archive::new(&t[..]);
        let names: Vec<String> =
            a.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert!(names.contains(&"sub/ok".to_owned()), "{names:?}");
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("bad")).unwrap();
        assert!(matches!(context_tar(d.path(), "Dockerfile"), Err(ToolError::Denied(_))));
        assert!(matches!(context_tar(d.path(), "../Dockerfile"), Err(ToolError::Denied(_))));
    }

    #[test]
    fn dockerignore_leaves_out_what_it_names_anchored() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(p.join(".dockerignore"), "# the venv\n.venv\ntarget\n*.log\n!keep.log\nDockerfile\n").unwrap();
        for dir in [".venv/bin", "target", "src/target"] {
            std::fs::create_dir_all(p.join(dir)).unwrap();
        }
        // Outside the context, but ignored: neither sent nor refused.
        std::os::unix::fs::symlink("/usr/bin/python3", p.join(".venv/bin/python3")).unwrap();
        for f in ["target/x", "src/target/y", "a.log", "keep.log", "src/main.py"] {
            std::fs::write(p.join(f), "x").unwrap();
        }
        let t = context_tar(p, "Dockerfile").unwrap();
        let mut a = tar::Archive::new(&t[..]);
        let names: Vec<String> =
            a.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        for kept in ["Dockerfile", ".dockerignore", "keep.log", "src/main.py", "src/target/y"] {
            assert!(names.iter().any(|n| n == kept), "{kept} missing from {names:?}");
        }
        for gone in [".venv", "target/x", "a.log"] {
            assert!(!names.iter().any(|n| n.starts_with(gone)), "{gone} sent: {names:?}");
        }
    }
}
