//! Remote hosts through a real OpenSSH server on loopback, and secrets
//! isolation in the real binary.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_server_shell::config::Host;
use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::json;

use crate::{Fixture, err, ok};

struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &std::path::Path) {
    let st = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(path).status().unwrap();
    assert!(st.success());
}

/// Start sshd on a free loopback port, trusting a fresh user key.
fn sshd() -> Sshd {
    let sshd = "/usr/sbin/sshd";
    assert!(
        std::path::Path::new(sshd).exists(),
        "{sshd} is missing: `cargo xtask test` installs openssh-server before running the tests"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_key"));
    keygen(&d.join("user_key"));
    std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host_key\nPidFile {0}/sshd.pid\nAuthorizedKeysFile {0}/authorized_keys\n\
         StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\nPrintMotd no\n",
        d.display()
    );
    std::fs::write(d.join("sshd_config"), config).unwrap();
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
    std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {host_pub}")).unwrap();
    Sshd { child, port, dir }
}

fn user() -> String {
    String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_run_on_a_configured_host_over_ssh() {
    let s = sshd();
    let d = s.dir.path().to_path_buf();
    let f = Fixture::with(|c| {
        c.hosts = vec![Host { name: "box".into(), target: format!("{}@127.0.0.1", user()), port: s.port }];
        c.ssh_key = Some(d.join("user_key"));
        c.ssh_known_hosts = Some(d.join("known_hosts"));
    })
    .await;
    let r = f.call("run", json!({"argv": ["echo", "remote 'quoted' $HOME"], "host": "box", "timeout_secs": 20})).await;
    let v = ok(&r);
    assert_eq!(v["exit_code"], 0, "{}", r.text);
    // Every word arrives as it was checked: no remote expansion of $HOME.
    assert_eq!(v["stdout"], "remote 'quoted' $HOME\n");
    assert!(v["command"].as_str().unwrap().starts_with("[box] echo"));
    // The same policy applies remotely.
    assert!(
        err(&f.call("run", json!({"argv": ["sh", "-c", "id"], "host": "box"})).await)
            .contains("not an allowed program")
    );
    assert!(err(&f.call("run", json!({"argv": ["/bin/echo", "x"], "host": "box"})).await).contains("bare name"));
    assert!(err(&f.call("run", json!({"argv": ["echo"], "host": "box", "cwd": "/tmp"})).await).contains("drop cwd"));
    // A host key that does not match is refused by ssh (strict checking).
    std::fs::write(
        d.join("known_hosts"),
        format!(
            "[127.0.0.1]:{} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZm\n",
            s.port
        ),
    )
    .unwrap();
    let r = f.call("run", json!({"argv": ["echo", "x"], "host": "box", "timeout_secs": 20})).await;
    let v = ok(&r);
    assert_eq!(v["exit_code"], 255, "{}", r.text);
    assert!(v["stderr"].as_str().unwrap().contains("Host key verification failed"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_the_servers_environment_never_reach_children() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-server-shell"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SHELL_ROOTS", dir.path())
        .env("SHELL_PRESET", "minimal")
        .env("SHELL_ALLOW", "printenv")
        .env("SHELL_DATA_DIR", dir.path().join("data"))
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN", TEST_TOKEN)
        .env("AWS_SECRET_ACCESS_KEY", "aws-secret-do-not-leak")
        .env("DATABASE_URL", "postgres://user:db-password-do-not-leak@db/x")
        .env("LD_PRELOAD", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raw = RawClient::new(&format!("http://127.0.0.1:{port}"), Some(TEST_TOKEN.into()));
    let r = raw.call("run", json!({"argv": ["printenv"]})).await;
    let _ = child.kill();
    let _ = child.wait();
    let out = r.result()["structuredContent"]["stdout"].as_str().unwrap_or_default().to_owned();
    assert!(out.contains("PATH=") && out.contains("HOME=") && out.contains("LANG=C.UTF-8"), "{}", r.text);
    for secret in [
        "aws-secret-do-not-leak",
        "db-password-do-not-leak",
        TEST_TOKEN,
        "AWS_SECRET",
        "DATABASE_URL",
        "MCP_AUTH_TOKEN",
    ] {
        assert!(!out.contains(secret), "{secret} leaked into the child's environment:\n{out}");
    }
    let mut names: Vec<&str> = out.lines().filter_map(|l| l.split('=').next()).collect();
    names.sort();
    // TMPDIR is the job's private temporary directory; MCP_FLEET_JOB marks
    // its processes so daemons that leave its tree are still found.
    assert_eq!(names, ["HOME", "LANG", "MCP_FLEET_JOB", "PATH", "TMPDIR"], "children get exactly the fixed variables");
}
