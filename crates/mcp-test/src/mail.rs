//! A real mail server on loopback for the tests: Dovecot (IMAP with IDLE,
//! LMTP) and Postfix (SMTP, delivering into Dovecot over LMTP), each with a
//! private configuration in a temporary folder, on free ports, started here
//! and stopped on drop. A watchdog shell stops both if the test process dies
//! without dropping them (a killed `cargo test`), so no daemon outlives a run.
//!
//! Needs the Debian packages `dovecot-imapd`, `dovecot-lmtpd` and `postfix`
//! (`cargo xtask test` installs them), and root (Postfix's master runs as
//! root; Dovecot drops to uid 65534 for the mail).
//!
//! Addresses with a `+detail` (the email server's signed Reply-To tokens,
//! `agent+<token>@example.test`) are delivered to the user's inbox, as on a
//! real mail system.

// A fixture: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Users of the test domain (`example.test`), all with the password [`PASSWORD`].
pub const USERS: &[&str] = &["agent", "alice", "bob", "mallory"];
/// Their password.
pub const PASSWORD: &str = "secret";

/// Dovecot and Postfix on loopback.
pub struct MailServer {
    /// Configuration, mail and logs.
    pub dir: tempfile::TempDir,
    /// IMAP (plain).
    pub imap_port: u16,
    /// IMAPS (TLS fixtures only).
    pub imaps_port: u16,
    /// LMTP.
    pub lmtp_port: u16,
    /// SMTP (Postfix).
    pub smtp_port: u16,
    /// SMTP with implicit TLS (TLS fixtures only).
    pub smtps_port: u16,
    /// PEM of the CA that signed the servers' certificate (TLS fixtures only).
    pub ca_file: Option<PathBuf>,
    dovecot: Option<Child>,
    watchdog: Option<Child>,
}

/// A free TCP port on loopback, never the same one twice in this process:
/// a port is only free until someone binds it, and tests that start many
/// programs in parallel would otherwise be handed a port another fixture is
/// about to bind.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let p = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !given.contains(&p) {
            given.push(p);
            return p;
        }
    }
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install {package} (`cargo xtask test` installs dovecot-imapd, dovecot-lmtpd and postfix \
         before running the tests)"
    );
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn wait_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}; log: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A CA and a certificate for `localhost`/127.0.0.1 signed by it, made with the openssl command line.
fn make_certs(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n\
         subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    dir.join("ca.pem")
}

impl MailServer {
    /// Start both servers, without TLS.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Start both servers; with `tls`, IMAPS on `imaps_port` and STARTTLS on the SMTP port.
    pub fn start_with(tls: bool) -> Self {
        require("/usr/sbin/dovecot", "dovecot-imapd");
        require("/usr/lib/dovecot/lmtp", "dovecot-lmtpd");
        require("/usr/sbin/postfix", "postfix");
        assert!(is_root(), "the mail server tests run Postfix, which needs root (as `cargo xtask test` runs here)");
        let dir = tempfile::Builder::new().prefix("mcp-email-mail-").tempdir().unwrap();
        let d = dir.path().to_path_buf();
        // Postfix and Dovecot's mail processes run as other users and must traverse the folder.
        std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let (imap_port, imaps_port, lmtp_port, smtp_port, smtps_port) =
            (free_port(), free_port(), free_port(), free_port(), free_port());
        let ca_file = tls.then(|| make_certs(&d));

        // Dovecot.
        for sub in ["base", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        std::os::unix::fs::chown(d.join("mail"), Some(65534), Some(65534)).unwrap();
        let users: String = USERS.iter().map(|u| format!("{u}@example.test:{{PLAIN}}{PASSWORD}\n")).collect();
        std::fs::write(d.join("users"), users).unwrap();
        let ssl = if tls {
            format!("ssl = yes\nssl_cert = <{0}/server.pem\nssl_key = <{0}/server.key\n", d.display())
        } else {
            "ssl = no\n".to_owned()
        };
        let imaps = if tls { format!("address = 127.0.0.1\n    port = {imaps_port}") } else { "port = 0".to_owned() };
        let conf = format!(
            "protocols = imap lmtp\nlisten = 127.0.0.1\nbase_dir = {d}/base\nstate_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n{ssl}disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={d}/mail/%n\n}}\n\
             mail_location = maildir:~/Maildir\n\
             namespace inbox {{\n  inbox = yes\n  separator = /\n\
               mailbox Sent {{\n    special_use = \\Sent\n    auto = create\n  }}\n\
               mailbox Archive {{\n    auto = create\n  }}\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n\
               inet_listener imaps {{\n    {imaps}\n  }}\n}}\n\
             service lmtp {{\n  inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {lmtp_port}\n  }}\n}}\n\
             protocol lmtp {{\n  postmaster_address = postmaster@example.test\n}}\nrecipient_delimiter = +\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let dovecot = Command::new("/usr/sbin/dovecot")
            .args(["-F", "-c"])
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("dovecot.stderr")).unwrap())
            .spawn()
            .unwrap();

        // The watchdog: if this process goes away without dropping us, stop the daemons anyway. From here on
        // `s` owns the daemons, so a failing start (a panic below) stops them too.
        let pf = d.join("postfix");
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -TERM {dv} 2>/dev/null; \
                 /usr/sbin/postfix -c {pf} stop >/dev/null 2>&1",
                me = std::process::id(),
                dv = dovecot.id(),
                pf = pf.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();

        let s = Self {
            dir,
            imap_port,
            imaps_port,
            lmtp_port,
            smtp_port,
            smtps_port,
            ca_file,
            dovecot: Some(dovecot),
            watchdog,
        };
        // Postfix.
        std::fs::create_dir_all(pf.join("queue")).unwrap();
        let tls_conf = if tls {
            format!(
                "smtpd_tls_cert_file = {0}/server.pem\nsmtpd_tls_key_file = {0}/server.key\nsmtpd_tls_security_level = may\nsmtpd_tls_loglevel = 1\n",
                d.display()
            )
        } else {
            String::new()
        };
        let main_cf = format!(
            "compatibility_level = 3.6\nqueue_directory = {pf}/queue\ndata_directory = {pf}/data\n\
             maillog_file = {pf}/postfix.log\nmaillog_file_prefixes = /tmp,{pf}\nmyhostname = mail.example.test\n\
             mydomain = example.test\nmyorigin = example.test\nmydestination =\ninet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\nvirtual_mailbox_domains = example.test\n\
             virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}\nrelayhost =\n\
             smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\nalias_maps =\n\
             alias_database =\nlocal_recipient_maps =\nrecipient_delimiter = +\nsmtputf8_enable = no\nmessage_size_limit = 104857600\n\
             {tls_conf}",
            pf = pf.display()
        );
        std::fs::write(pf.join("main.cf"), main_cf).unwrap();
        let master = std::fs::read_to_string("/etc/postfix/master.cf").unwrap();
        let master: Vec<String> = master
            .lines()
            .map(|l| {
                if l.is_empty() || l.starts_with('#') || l.starts_with(char::is_whitespace) {
                    return l.to_owned();
                }
                let mut f: Vec<String> = l.split_whitespace().map(str::to_owned).collect();
                if f.len() < 8 {
                    return l.to_owned();
                }
                if f[0] == "smtp" && f[1] == "inet" {
                    f[0] = format!("127.0.0.1:{smtp_port}");
                }
                f[4] = "n".into(); // no chroot: the queue is in our folder
                f.join(" ")
            })
            .collect();
        let mut master = master.join("\n") + "\n";
        if tls {
            master.push_str(&format!("127.0.0.1:{smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"));
        }
        std::fs::write(pf.join("master.cf"), master).unwrap();
        let out =
            Command::new("/usr/sbin/postfix").arg("-c").arg(&pf).arg("start").stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "postfix start failed: {}{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(pf.join("postfix.log")).unwrap_or_default()
        );

        wait_port(imap_port, "dovecot", &s.path().join("dovecot.log"));
        wait_port(lmtp_port, "dovecot lmtp", &s.path().join("dovecot.log"));
        wait_port(smtp_port, "postfix", &pf.join("postfix.log"));
        if tls {
            wait_port(imaps_port, "dovecot imaps", &s.path().join("dovecot.log"));
            wait_port(smtps_port, "postfix smtps", &pf.join("postfix.log"));
        }
        s
    }

    /// The fixture's folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `imap://127.0.0.1:PORT`.
    pub fn imap_url(&self) -> String {
        format!("imap://127.0.0.1:{}", self.imap_port)
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    /// Deliver straight into `user`'s inbox over LMTP (what an MTA does last).
    pub fn deliver(&self, user: &str, raw: &[u8]) {
        transfer(self.lmtp_port, true, "sender@example.test", &format!("{user}@example.test"), raw).unwrap();
    }

    /// Submit over SMTP to Postfix (which delivers through LMTP).
    pub fn submit(&self, from: &str, to: &str, raw: &[u8]) {
        transfer(self.smtp_port, false, from, to, raw).unwrap();
    }

    /// Stop Dovecot (IMAP goes away; connections break).
    pub fn stop_dovecot(&mut self) {
        if let Some(mut d) = self.dovecot.take() {
            let _ = Command::new("kill").arg("-TERM").arg(d.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while d.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = d.kill();
            let _ = d.wait();
        }
        // The master is gone; wait until its listeners are too.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.imap_port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start Dovecot again with the same configuration and mail.
    pub fn start_dovecot(&mut self) {
        let d = self.path().to_path_buf();
        self.dovecot = Some(
            Command::new("/usr/sbin/dovecot")
                .args(["-F", "-c"])
                .arg(d.join("dovecot.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_port(self.imap_port, "dovecot", &d.join("dovecot.log"));
    }

    /// A user's Maildir (as Dovecot keeps it).
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.path().join("mail").join(user).join("Maildir")
    }

    /// Run a Python (standard library only) script with `args`; returns its stdout.
    pub fn python(&self, script: &str, args: &[&str]) -> String {
        let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3");
        assert!(
            out.status.success(),
            "python failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.stop_dovecot();
        let _ = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(self.path().join("postfix"))
            .arg("stop")
            .stdin(Stdio::null())
            .output();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

fn expect(r: &mut impl BufRead, code: &str) -> Result<String, String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!("connection closed waiting for {code}: {all}"));
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            break;
        }
    }
    if all.starts_with(code) { Ok(all) } else { Err(format!("expected {code}, got {all}")) }
}

/// A minimal SMTP/LMTP client: one message, one recipient.
pub fn transfer(port: u16, lmtp: bool, from: &str, to: &str, raw: &[u8]) -> Result<(), String> {
    let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let cmd = |w: &mut TcpStream, r: &mut BufReader<TcpStream>, line: &str, code: &str| -> Result<String, String> {
        w.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        w.write_all(b"\r\n").map_err(|e| e.to_string())?;
        expect(r, code)
    };
    expect(&mut r, "220")?;
    cmd(&mut w, &mut r, if lmtp { "LHLO test.example" } else { "EHLO test.example" }, "250")?;
    cmd(&mut w, &mut r, &format!("MAIL FROM:<{from}>"), "250")?;
    cmd(&mut w, &mut r, &format!("RCPT TO:<{to}>"), "250")?;
    cmd(&mut w, &mut r, "DATA", "354")?;
    let mut data = Vec::with_capacity(raw.len() + 1024);
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            data.push(b'.');
        }
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    w.write_all(&data).map_err(|e| e.to_string())?;
    expect(&mut r, "250")?;
    let _ = cmd(&mut w, &mut r, "QUIT", "221");
    Ok(())
}
