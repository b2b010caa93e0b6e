//! The command line of {{name}}.

use std::process::ExitCode;

use {{module}}::greeting;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--version") => {
            println!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help") => {
            let (name, about) = (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_DESCRIPTION"));
            println!("{about}\n\nusage: {name} [NAME]");
            ExitCode::SUCCESS
        }
        name => {
            let text = greeting(name.unwrap_or("world"));
            println!("{text}");
            ExitCode::SUCCESS
        }
    }
}
