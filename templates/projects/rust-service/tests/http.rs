//! The binary, started on a free port and asked over HTTP as a client would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Service(Child, String);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> Service {
    let exe = env!("CARGO_BIN_EXE_{{slug}}");
    let mut child = Command::new(exe)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("listening on http://");
    Service(child, addr.to_owned())
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[test]
fn health_answers_ok() {
    let svc = start();
    let (status, body) = get(&svc.1, "/health");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
}

#[test]
fn root_says_what_it_is_and_unknown_paths_are_404() {
    let svc = start();
    let (status, body) = get(&svc.1, "/");
    assert_eq!(status, 200);
    assert!(body.contains(env!("CARGO_PKG_VERSION")), "{body}");
    assert_eq!(get(&svc.1, "/nope").0, 404);
}
