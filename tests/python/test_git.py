"""mcp-server-git driven by the official Python MCP SDK (mcp==2.3.0), in both
protocol styles: tools and their schemas, a repository created, committed to
and logged through the server, and error paths."""

import subprocess
from pathlib import Path

import pytest

from conftest import RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def git_server(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    s = RunningServer(
        "mcp-server-git",
        {
            "GIT_ROOTS": str(root),
            "GIT_AUTHOR_NAME": "Py Bot",
            "GIT_AUTHOR_EMAIL": "py@example.test",
            "GIT_PROTECTED_BRANCHES": "main,release/*",
        },
    )
    yield s, root
    s.stop()


async def test_tools_init_commit_log(git_server, mode):
    s, root = git_server
    async with client(s.url, mode) as c:
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert c.protocol_version == expected
        tools = await c.list_tools()
        names = {t.name for t in tools.tools}
        assert {"git_init", "git_status", "git_commit", "git_log", "git_push", "git_merge"} <= names
        status = next(t for t in tools.tools if t.name == "git_status")
        assert status.annotations.read_only_hint is True
        assert status.output_schema is not None
        push = next(t for t in tools.tools if t.name == "git_push")
        assert push.annotations.open_world_hint is True

        r = await c.call_tool("git_init", {"repo": "app"})
        assert not r.is_error, r.content
        assert r.structured_content["created"] is True
        (root / "app" / "hello.txt").write_text("hello\n")

        r = await c.call_tool("git_status", {"repo": "app"})
        assert r.structured_content["entries"][0]["code"] == "??"
        assert "?? hello.txt" in r.content[0].text

        r = await c.call_tool("git_add", {"repo": "app", "all": True})
        assert r.structured_content["staged"] == ["hello.txt"]
        r = await c.call_tool("git_commit", {"repo": "app", "message": "say hello"})
        assert not r.is_error, r.content
        commit = r.structured_content["commit"]
        assert commit["author"] == "Py Bot"

        r = await c.call_tool("git_log", {"repo": "app"})
        assert [x["summary"] for x in r.structured_content["commits"]] == ["say hello"]
        assert r.structured_content["commits"][0]["id"] == commit["id"]
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root / "app", capture_output=True, text=True)
        assert head.stdout.strip() == commit["id"]


async def test_error_paths(git_server, mode):
    s, root = git_server
    async with client(s.url, mode) as c:
        r = await c.call_tool("git_status", {"repo": "../outside"})
        assert r.is_error
        assert ".." in r.content[0].text

        r = await c.call_tool("git_init", {"repo": "x"})
        assert not r.is_error
        r = await c.call_tool("git_log", {"repo": "x", "rev": "--output=/tmp/pwned"})
        assert r.is_error
        assert "'-'" in r.content[0].text

        r = await c.call_tool("git_reset", {"repo": "x", "mode": "hard"})
        assert r.is_error
        assert "confirm: true" in r.content[0].text

        r = await c.call_tool("git_status", {"nope": 1})
        assert r.is_error
        assert "invalid arguments" in r.content[0].text

        with pytest.raises(Exception) as e:
            await c.call_tool("no_such_tool", {})
        assert "Unknown tool" in str(e.value) or "no_such_tool" in str(e.value)
