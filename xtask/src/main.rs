//! `cargo xtask`: the project's own commands.
//!
//! - `up`: run the fleet as plain processes on embedded defaults.
//! - `test`: provision what the tests need on a fresh Debian machine, then run
//!   every test (format, lints, Rust tests, the official Python client tests).
//! - `bench`: the benchmarks whose figures go into `docs/benchmarks.md`.
//! - `images`: every image `docker-compose.yml` runs, built without a
//!   registry (a debootstrapped base, host-built binaries).
//! - `codegen`: the deployment files' program parts, from `fleet.toml`.

// The benchmark's report is the program's output, so stdout is the point.
#![allow(clippy::print_stdout)]

mod bench;
mod codegen;
mod fleet;
mod images;
mod manifest;
mod provision;
#[cfg(test)]
mod tidy;
mod util;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project tasks for the MCP DevOps fleet")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build and run the fleet locally on embedded defaults until Ctrl-C.
    Up {
        /// Use debug builds (faster to build, slower to run).
        #[arg(long)]
        debug: bool,
    },
    /// Provision, then run every test: fmt, clippy, cargo test, Python client tests, the composed fleet.
    Test {
        /// Skip installing system packages (they are already there).
        #[arg(long)]
        no_provision: bool,
    },
    /// Run a benchmark and print its figures.
    Bench {
        /// Which benchmark: `fs`, `shell`, `git`, `pytest`, `checks`, `gateway`, `deploy` or `ci`.
        #[arg(default_value = "fs")]
        which: String,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Build every image compose runs, offline: base (debootstrap), services, programs.
    Images {
        /// Package the debug binaries already in the target directory; build nothing.
        #[arg(long)]
        debug_binaries: bool,
        /// Debootstrap the base image again even if it exists.
        #[arg(long)]
        rebuild_base: bool,
        /// Make only the base image (what the container tests build from), when missing.
        #[arg(long)]
        base_only: bool,
        /// Cargo's target directory (default: CARGO_TARGET_DIR, else target/).
        #[arg(long)]
        target_dir: Option<std::path::PathBuf>,
        /// Image tag (default: FLEET_TAG, else latest).
        #[arg(long)]
        tag: Option<String>,
    },
    /// Write the program parts of the deployment files from fleet.toml.
    Codegen {
        /// Write nothing; fail if a generated file is stale (what the tidy test checks).
        #[arg(long)]
        check: bool,
    },
    /// Build the images from the debug binaries already built, bring the fleet up with compose,
    /// run the email-to-project scenario, tear it down (the last step of `test`).
    ComposeScenario,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Up { debug } => fleet::up(!debug),
        Cmd::Test { no_provision } => test(no_provision),
        Cmd::Bench { which, seconds } => bench::run(&which, seconds),
        Cmd::Images { base_only: true, .. } => images::base_image(),
        Cmd::Images { debug_binaries, rebuild_base, target_dir, tag, base_only: false } => {
            let opts = images::Options { debug_binaries, rebuild_base, target_dir, tag };
            images::images(&util::workspace_root(), &opts).map(drop)
        }
        Cmd::Codegen { check: true } => {
            let stale = codegen::stale(&util::workspace_root());
            for s in &stale {
                eprintln!("{s}");
            }
            anyhow::ensure!(stale.is_empty(), "{} generated file(s) are stale", stale.len());
            Ok(())
        }
        Cmd::Codegen { check: false } => {
            let written = codegen::write(&util::workspace_root())?;
            if written.is_empty() {
                eprintln!("every generated file is up to date");
            }
            for f in written {
                eprintln!("wrote {f}");
            }
            Ok(())
        }
        Cmd::ComposeScenario => images::compose_scenario(&util::workspace_root(), true),
    }
}

fn test(no_provision: bool) -> anyhow::Result<()> {
    let root = util::workspace_root();
    let mut steps = util::Steps::default();
    if !no_provision {
        steps.run("provision system packages", provision::system_packages)?;
    }
    let venv = steps.run("python virtualenv", || provision::venv(&root))?;
    steps.run("lint tools (ruff, hadolint) virtualenv", || provision::lint_tools(&root))?;
    steps.run("cargo fmt --check", || util::cargo(&root, &["fmt", "--all", "--", "--check"], &[]))?;
    steps.run("cargo clippy -D warnings", || {
        util::cargo(&root, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])
    })?;
    steps.run("cargo build (binaries)", || util::cargo(&root, &["build", "--workspace", "--bins"], &[]))?;
    // The docker server's, the local pipelines' and the planner's container
    // tests build their images FROM the debootstrapped base (no registry on
    // the project's machines); made once, kept.
    steps.run("base image (debootstrap, once)", images::base_image)?;
    steps.run("cargo test", || util::cargo(&root, &["test", "--workspace"], &[]))?;
    let bin_dir = util::target_dir(&root).join("debug");
    steps.run("python client tests", || {
        util::run(
            std::process::Command::new(venv.join("bin/python"))
                .args(["-m", "pytest", "-q", "tests/python"])
                .current_dir(&root)
                .env("MCP_BIN_DIR", &bin_dir),
        )
    })?;
    steps.run("compose fleet: offline images, up, email-to-project scenario, down", || {
        images::compose_scenario(&root, true)
    })?;
    steps.summary();
    Ok(())
}
