"""mcp-server-email driven by the official Python MCP SDK in both protocol
styles, in the embedded Maildir mode (no mail server needed): a message
dropped into the Maildir comes out of wait_for_new, a reply is written to the
outbox with its threading headers, untrusted mail is never answered."""

import email
import time
import uuid
from pathlib import Path

import pytest

from conftest import RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def email_server(tmp_path: Path):
    data = tmp_path / "data"
    s = RunningServer(
        "mcp-server-email",
        {
            "EMAIL_DATA_DIR": str(data),
            "EMAIL_ADDRESS": "agent@example.test",
            "EMAIL_TOKEN_SECRET": "py-secret-0123456789-0123456789-0123456789",
            "EMAIL_ALLOWED_SENDERS": "alice@example.test",
        },
    )
    yield s, data
    s.stop()


def drop(maildir: Path, raw: bytes) -> None:
    """Deliver the Maildir way: write in tmp/, then rename into new/."""
    name = f"{time.time_ns()}.{uuid.uuid4().hex}.pytest"
    tmp = maildir / "tmp" / name
    tmp.write_bytes(raw)
    tmp.rename(maildir / "new" / name)


def message(sender: str, subject: str, message_id: str, body: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: agent@example.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Tue, 2 Jan 2024 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def test_intake_and_reply(email_server, mode):
    s, data = email_server
    async with client(s.url, mode) as c:
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert c.protocol_version == expected
        tools = (await c.list_tools()).tools
        names = {t.name for t in tools}
        assert {"wait_for_new", "list_messages", "get_message", "get_attachment", "thread", "list_mailboxes",
                "mark", "move_message", "send", "reply"} <= names
        by_name = {t.name: t for t in tools}
        assert by_name["wait_for_new"].annotations.read_only_hint is True
        assert by_name["reply"].annotations.open_world_hint is True
        assert by_name["wait_for_new"].output_schema is not None

        r = await c.call_tool("wait_for_new", {"timeout_secs": 1})
        assert not r.is_error, r.content
        assert r.structured_content["messages"] == []
        cursor = r.structured_content["cursor"]

        mid = f"<{uuid.uuid4().hex}@example.test>"
        body = "Please build a CLI.\r\n\r\nOn Mon, Agent wrote:\r\n> What do you need?"
        drop(data / "mail" / "inbox", message("Alice <alice@example.test>", "New project", mid, body))
        r = await c.call_tool("wait_for_new", {"cursor": cursor, "timeout_secs": 20})
        assert not r.is_error, r.content
        msgs = r.structured_content["messages"]
        assert len(msgs) == 1
        m = msgs[0]
        assert m["message_id"] == mid
        assert m["trusted"] is True
        assert m["text"] == "Please build a CLI."
        assert m["has_quoted"] is True
        assert m["seen"] is False
        assert r.structured_content["cursor"] != cursor

        r = await c.call_tool("reply", {"id": m["id"], "text": "Which language?", "request_id": "py-1"})
        assert not r.is_error, r.content
        assert r.structured_content["saved_to_sent"] is True
        files = list((data / "mail" / "outbox").glob("*.eml"))
        assert len(files) == 1
        sent = email.message_from_bytes(files[0].read_bytes())
        assert sent["In-Reply-To"] == mid
        assert sent["References"].split()[-1] == mid
        assert sent["To"] == "alice@example.test"
        assert sent["Subject"] == "Re: New project"
        assert sent["Reply-To"].startswith("agent+lpy-1")
        assert sent["Message-ID"] == r.structured_content["message_id"]

        r = await c.call_tool("thread", {"id": m["id"]})
        assert [x["message_id"] for x in r.structured_content["messages"]][0] == mid
        assert len(r.structured_content["messages"]) == 2


async def test_untrusted_mail_is_shown_not_answered(email_server, mode):
    s, data = email_server
    async with client(s.url, mode) as c:
        drop(data / "mail" / "inbox", message("mallory@evil.test", "Transfer money", "<evil1@evil.test>", "now"))
        r = await c.call_tool("wait_for_new", {"timeout_secs": 20})
        m = r.structured_content["messages"][0]
        assert m["trusted"] is False
        assert "allow-list" in m["trust_reason"]
        r = await c.call_tool("reply", {"id": m["id"], "text": "ok"})
        assert r.is_error
        assert "not trusted" in r.content[0].text
        r = await c.call_tool("send", {"to": ["mallory@evil.test"], "subject": "hi", "text": "x"})
        assert r.is_error
        assert "refused by policy" in r.content[0].text
        assert list((data / "mail" / "outbox").glob("*.eml")) == []
