"""mcp-server-shell driven by the official Python MCP SDK in both protocol
styles: run, a refusal, and a long-running process."""

import asyncio
from pathlib import Path

import pytest

from conftest import RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def shell_server(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "script.py").write_text("import sys\nprint('args', sys.argv[1:])\n")
    s = RunningServer(
        "mcp-server-shell",
        {"SHELL_ROOTS": str(root), "SHELL_PRESET": "minimal", "SHELL_ALLOW": "cat", "SHELL_INTERPRETERS": "python3",
         "SHELL_DATA_DIR": str(tmp_path / "data")},
    )
    yield s, root
    s.stop()


async def test_run_and_refuse(shell_server, mode):
    s, _ = shell_server
    async with client(s.url, mode) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        assert {"run", "start", "read_output", "write_stdin", "wait", "signal", "list_processes", "policy"} <= tools

        r = await c.call_tool("run", {"argv": ["python3", "script.py", "a b"]})
        assert not r.is_error, r.content
        assert r.structured_content["stdout"] == "args ['a b']\n"
        assert r.structured_content["exit_code"] == 0

        r = await c.call_tool("run", {"argv": ["sh", "-c", "id"]})
        assert r.is_error
        assert "refused by policy" in r.content[0].text

        r = await c.call_tool("policy", {})
        assert "python3" in r.structured_content["interpreters"]


async def test_long_running_process(shell_server, mode):
    s, _ = shell_server
    async with client(s.url, mode) as c:
        r = await c.call_tool("start", {"argv": ["cat"]})
        pid = r.structured_content["id"]
        await c.call_tool("write_stdin", {"id": pid, "data": "hello\n", "close": True})
        r = await c.call_tool("wait", {"id": pid, "timeout_secs": 10})
        assert r.structured_content["status"] == "exited"
        assert r.structured_content["stdout"] == "hello\n"
