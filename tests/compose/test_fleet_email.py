"""The email-to-project scenario against the composed fleet.

Assumes the fleet is up and healthy (`docker compose up -d --wait`, or
`compose_scenario` in xtask/src/images.rs, which also tears it down). It
sends a complete project request from the requester's address to the
fleet's inbox through the dev mail server's published SMTP port, then
watches the requester's IMAP inbox until the completion reply arrives — the
project built, linted, tested, committed and tagged — and checks that reply
names the commit and the tag v0.1.0.

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
COMMIT = re.compile(r"Commit:\s*([0-9a-f]{7,40})\b")


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


def test_a_complete_request_by_email_gets_a_built_tagged_project():
    password = PASSWORD_FILE.read_text().strip()
    suffix = uuid.uuid4().hex[:6]
    request = EmailMessage()
    request["From"] = REQUESTER
    request["To"] = AGENT
    request["Subject"] = f"New project: word counter {suffix}"
    request["Message-ID"] = make_msgid(domain=DOMAIN)
    request.set_content(
        "Hello,\n\n"
        "please build this for me.\n\n"
        f"Name: Word Counter {suffix}\n"
        "Summary: Counts the words, lines and characters of text files.\n"
        "Language: Python\n"
        "Kind: CLI\n"
        "Features:\n"
        "- count words\n"
        "- count lines\n"
        "Acceptance: prints 3 for the words of \"a b c\"; exits 0\n"
        "Delivery: local repository\n\n"
        "Thanks,\nAlice\n"
    )
    message_id = request["Message-ID"]

    with smtplib.SMTP(HOST, SMTP_PORT, timeout=30) as smtp:
        smtp.send_message(request)

    deadline = time.monotonic() + TIMEOUT
    seen: list[email.message.EmailMessage] = []
    while time.monotonic() < deadline:
        imap = imaplib.IMAP4(HOST, IMAP_PORT, timeout=30)
        try:
            imap.login(REQUESTER, password)
            seen = replies_to(imap, message_id)
        finally:
            imap.logout()
        for reply in seen:
            body = text_of(reply)
            commit = COMMIT.search(body)
            if "v0.1.0" in body and commit:
                # A complete request is answered with the project, never with questions first.
                assert len(seen) == 1, [r["Subject"] for r in seen]
                assert AGENT in str(reply["From"]), reply["From"]
                assert len(commit.group(1)) >= 7
                return
        time.sleep(5)

    shown = "\n---\n".join(f"{r['Subject']}\n{text_of(r)}" for r in seen) or "no reply at all"
    raise AssertionError(f"no completion reply with a commit and v0.1.0 within {TIMEOUT:.0f} s; replies:\n{shown}")
