"""The email-to-project scenario against the composed fleet.

Assumes the fleet is up and healthy (`docker compose up -d --wait`, or
`compose_scenario` in xtask/src/images.rs, which also tears it down). It
sends one complete project request per offered template (a Python CLI,
library and web service, a Rust CLI and web service) from the requester's address to the fleet's
inbox through the dev mail server's published SMTP port, then watches the
requester's IMAP inbox until every completion reply arrives — the project
installed, built, linted and tested in containers of the toolchain image
(which comes from the project's own Debian base) started by the docker server,
its committed .gitlab-ci.yml run locally through the gitlab server, committed
and tagged, and the web services deployed with their health check — and
checks each reply names its commit, the tag v0.1.0, the containers, the
pipeline's verdict, the documents the spec server rendered (SPEC.md, README.md,
CHANGELOG.md), for a Python project the dependencies the registry server
pinned (live PyPI), and for a service where it answers, what its health check
returned and a screenshot of its page taken by the browser server (a PNG
attached to the reply).

Not under tests/python: it needs the composed fleet, which `cargo xtask
test` starts for tests/compose only (xtask/src/images.rs).

Environment (defaults are .env.example's):
  MAIL_SMTP_PORT, MAIL_IMAP_PORT   published ports of the dev mail server
  MAIL_DOMAIN                      its domain
  MAIL_REQUESTER                   the requester's local part (alice)
  MAIL_REQUESTER_PASSWORD_FILE     the requester's password (secrets/mail_password_alice)
  SCENARIO_TIMEOUT_SECS            how long to wait for the reply (600)
"""

import email
import email.policy
import imaplib
import os
import re
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SMTP_PORT = int(os.environ.get("MAIL_SMTP_PORT", "2525"))
IMAP_PORT = int(os.environ.get("MAIL_IMAP_PORT", "1143"))
DOMAIN = os.environ.get("MAIL_DOMAIN", "example.test")
REQUESTER = f"{os.environ.get('MAIL_REQUESTER', 'alice')}@{DOMAIN}"
AGENT = f"agent@{DOMAIN}"
PASSWORD_FILE = Path(os.environ.get("MAIL_REQUESTER_PASSWORD_FILE", ROOT / "secrets/mail_password_alice"))
TIMEOUT = float(os.environ.get("SCENARIO_TIMEOUT_SECS", "600"))
# "Tests:" then the header row and a row of counts with at least one test passed (mail has CRLF lines).
CONTAINERS = "Lint and tests ran in containers (mcp-fleet/toolchain:"
PIPELINE = re.compile(r"CI pipeline \(run locally\): success\b")
DEPLOYED = re.compile(r"Deployment \(dev\): healthy, revision \d+\r?\n\s+Answers at \(on the Docker host\): http://127\.0\.0\.1:\d+/")
HEALTH = "Health check returned: "
COMMIT = re.compile(r"Commit:\s*([0-9a-f]{7,40})\b")
SPEC_BY_SERVER = re.compile(r"SPEC\.md: spec server, template:spec \((builtin|user)\)")
README_BY_SERVER = re.compile(r"README\.md: spec server, template:readme \((builtin|user)\)")
CHANGELOG = re.compile(r"CHANGELOG: CHANGELOG\.md for 0\.1\.0 from \d+ commits? \((builtin|user) template\), rendered by the spec server")
# pytest and flake8 (the dev extra of the Python templates), each pinned to a version with what was checked.
PINNED = re.compile(r"Dependencies \(pinned in pyproject\.toml by the registry server\):\r?\n(\s+\S+ \d[^\r\n]*not yanked[^\r\n]*\r?\n){2}")
SCREENSHOT = re.compile(r"Screenshot of the deployed service: http://\S+ answered HTTP 200")
PNG = b"\x89PNG\r\n\x1a\n"


def text_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def replies_to(imap: imaplib.IMAP4, message_id: str) -> list[email.message.EmailMessage]:
    """Every message in the inbox that answers `message_id` (threading headers)."""
    imap.select("INBOX", readonly=True)
    status, data = imap.uid("SEARCH", None, "ALL")
    assert status == "OK", data
    found = []
    for uid in data[0].split():
        status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        assert status == "OK", parts
        raw = next(p[1] for p in parts if isinstance(p, tuple))
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        thread = f"{msg.get('In-Reply-To', '')} {msg.get('References', '')}"
        if message_id in thread:
            found.append(msg)
    return found


# What the compose deployment offers (FLEET_TEMPLATES): every one is built in
# the toolchain container, which comes from the project's own Debian base.
TEMPLATES = [
    ("Python", "CLI", "Counts the words, lines and characters of text files.", ["count words", "count lines"]),
    ("Python", "library", "Turns titles into URL slugs.", ["slugify a title"]),
    ("Python", "web service", "Answers the health of the nightly jobs as JSON.", ["GET /health"]),
    ("Rust", "CLI", "Prints the SHA-256 of every file it is given.", ["hash files"]),
    ("Rust", "web service", "Answers the version of the service as JSON.", ["GET /version"]),
]


def request_for(language: str, kind: str, summary: str, features: list[str], suffix: str) -> EmailMessage:
    request = EmailMessage()
    request["From"] = REQUESTER
    request["To"] = AGENT
    request["Subject"] = f"New project: {language} {kind} {suffix}"
    request["Message-ID"] = make_msgid(domain=DOMAIN)
    bullets = "".join(f"- {f}\n" for f in features)
    request.set_content(
        "Hello,\n\n"
        "please build this for me.\n\n"
        f"Name: Compose {language} {kind} {suffix}\n"
        f"Summary: {summary}\n"
        f"Language: {language}\n"
        f"Kind: {kind}\n"
        f"Features:\n{bullets}"
        "Delivery: local repository\n\n"
        "Thanks,\nAlice\n"
    )
    return request


def test_a_complete_request_by_email_gets_a_built_tagged_project():
    password = PASSWORD_FILE.read_text().strip()
    suffix = uuid.uuid4().hex[:6]
    requests = [request_for(*template, suffix) for template in TEMPLATES]
    with smtplib.SMTP(HOST, SMTP_PORT, timeout=30) as smtp:
        for request in requests:
            smtp.send_message(request)

    pending = {r["Message-ID"]: r["Subject"] for r in requests}
    deadline = time.monotonic() + TIMEOUT
    seen: dict[str, list[email.message.EmailMessage]] = {}
    while pending and time.monotonic() < deadline:
        imap = imaplib.IMAP4(HOST, IMAP_PORT, timeout=30)
        try:
            imap.login(REQUESTER, password)
            for message_id in list(pending):
                seen[message_id] = replies_to(imap, message_id)
        finally:
            imap.logout()
        for message_id in list(pending):
            for reply in seen[message_id]:
                body = text_of(reply)
                commit = COMMIT.search(body)
                if "v0.1.0" in body and commit:
                    # A complete request is answered with the project, never with questions first.
                    assert len(seen[message_id]) == 1, [r["Subject"] for r in seen[message_id]]
                    assert AGENT in str(reply["From"]), reply["From"]
                    assert len(commit.group(1)) >= 7
                    # Compose runs the checks in containers (PLANNER_ISOLATION=container):
                    # the report says so instead of showing the lint and test servers' tables.
                    assert CONTAINERS in body, body
                    assert PIPELINE.search(body), body
                    # The spec server wrote the documents; the registry server pinned the Python projects' pins.
                    assert SPEC_BY_SERVER.search(body), body
                    assert README_BY_SERVER.search(body), body
                    assert CHANGELOG.search(body), body
                    if "Python" in pending[message_id]:
                        assert PINNED.search(body), body
                    if "web service" in pending[message_id]:
                        assert DEPLOYED.search(body), body
                        assert HEALTH in body, body
                        # The browser server opened the service and the reply carries its screenshot.
                        assert SCREENSHOT.search(body), body
                        shots = [p for p in reply.iter_attachments() if p.get_content_type() == "image/png"]
                        assert len(shots) == 1, [p.get_content_type() for p in reply.iter_attachments()]
                        assert shots[0].get_content().startswith(PNG)
                    del pending[message_id]
                    break
        time.sleep(5)

    shown = "\n---\n".join(
        f"{pending[m]}: " + ("\n".join(f"{r['Subject']}\n{text_of(r)}" for r in seen.get(m, [])) or "no reply at all")
        for m in pending
    )
    assert not pending, f"no completion reply with a commit and v0.1.0 within {TIMEOUT:.0f} s for:\n{shown}"
