//! The service of {{name}}: `--port N` or `PORT` (default 8000), `--host`
//! or `HOST` (default 127.0.0.1).

use std::net::TcpListener;
use std::process::ExitCode;

use {{module}}::serve;

fn main() -> ExitCode {
    let mut host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let mut port = std::env::var("PORT").unwrap_or_else(|_| "8000".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" => {
                println!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" => {
                let (name, about) = (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_DESCRIPTION"));
                println!("{about}\n\nusage: {name} [--host HOST] [--port PORT]");
                return ExitCode::SUCCESS;
            }
            "--port" => port = args.next().unwrap_or_default(),
            "--host" => host = args.next().unwrap_or_default(),
            other => {
                eprintln!("unknown argument {other:?}; see --help");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match TcpListener::bind(format!("{host}:{port}")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    match serve(listener) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
