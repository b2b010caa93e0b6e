//! {{name}}: {{summary}}
//!
//! A small HTTP/1.1 service on the standard library: `GET /health` says the
//! service is up (what a container health check and a load balancer ask),
//! `GET /` says what it is; every answer is JSON. Add routes to [`route`].

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// The status and JSON body answering `GET path`.
pub fn route(path: &str) -> (u16, String) {
    match path.split('?').next().unwrap_or(path) {
        "/health" => (200, r#"{"status":"ok"}"#.to_owned()),
        "/" => {
            let (name, version) = (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
            let body = ["{\"name\":\"", name, "\",\"version\":\"", version, "\"}"].concat();
            (200, body)
        }
        _ => (404, r#"{"error":"not found"}"#.to_owned()),
    }
}

/// Answer one connection: read the request line and headers, write the answer.
pub fn handle(stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Headers end at the first empty line; this service reads none of them.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (status, body) = match (parts.next(), parts.next()) {
        (Some("GET"), Some(path)) => route(path),
        (Some(_), Some(_)) => (405, r#"{"error":"method not allowed"}"#.to_owned()),
        _ => (400, r#"{"error":"bad request"}"#.to_owned()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Bad Request",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

/// Serve `listener` forever, one thread per connection.
pub fn serve(listener: TcpListener) -> std::io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            if let Err(e) = handle(stream) {
                eprintln!("connection: {e}");
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn health_is_ok_and_unknown_paths_are_404() {
        assert_eq!(route("/health").0, 200);
        assert!(route("/health?probe=1").1.contains("ok"));
        assert_eq!(route("/nope").0, 404);
    }
}
