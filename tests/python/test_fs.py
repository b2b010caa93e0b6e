"""mcp-server-fs driven by the official Python MCP SDK (mcp==2.3.0), in both
protocol styles: tools, errors, resources, trace propagation and auth."""

import json
import time
import uuid
from pathlib import Path

import httpx2
import pytest

from conftest import RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def fs_server(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("hello from fs\nsecond line\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def main():\n    return 42\n")
    (tmp_path / "outside.txt").write_text("SECRET")
    s = RunningServer("mcp-server-fs", {"FS_ROOTS": str(root), "FS_WRITE": "true"})
    yield s, root
    s.stop()


async def test_list_and_call_tools(fs_server, mode):
    s, root = fs_server
    async with client(s.url, mode) as c:
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert c.protocol_version == expected
        tools = await c.list_tools()
        names = {t.name for t in tools.tools}
        assert {"read_file", "write_file", "edit_file", "grep", "changes"} <= names
        read = next(t for t in tools.tools if t.name == "read_file")
        assert read.annotations.read_only_hint is True
        assert read.output_schema is not None

        r = await c.call_tool("read_file", {"path": "hello.txt", "head": 1})
        assert not r.is_error
        assert r.structured_content["content"] == "hello from fs\n"
        assert r.content[0].text == "hello from fs\n"

        r = await c.call_tool("write_file", {"path": "new/file.txt", "content": "written by python", "create_parents": True})
        assert not r.is_error, r.content
        assert (root / "new" / "file.txt").read_text() == "written by python"

        r = await c.call_tool("grep", {"pattern": "return 42"})
        assert r.structured_content["matches"][0]["path"] == "src/app.py"


async def test_error_paths(fs_server, mode):
    s, _ = fs_server
    async with client(s.url, mode) as c:
        r = await c.call_tool("read_file", {"path": "../outside.txt"})
        assert r.is_error
        assert ".." in r.content[0].text
        assert "SECRET" not in r.content[0].text

        r = await c.call_tool("read_file", {"nope": 1})
        assert r.is_error
        assert "invalid arguments" in r.content[0].text

        with pytest.raises(Exception) as e:
            await c.call_tool("no_such_tool", {})
        assert "Unknown tool" in str(e.value) or "no_such_tool" in str(e.value)


async def test_resources(fs_server, mode):
    s, root = fs_server
    async with client(s.url, mode) as c:
        res = await c.list_resources()
        by_name = {r.name: r for r in res.resources}
        assert "hello.txt" in by_name and "src/app.py" in by_name
        templates = await c.list_resource_templates()
        assert templates.resource_templates[0].uri_template == "file:///{+path}"
        content = await c.read_resource(str(by_name["hello.txt"].uri))
        assert content.contents[0].text.startswith("hello from fs")


async def test_trace_context_reaches_the_server_logs(fs_server, mode):
    s, _ = fs_server
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    async with client(s.url, mode) as c:
        r = await c.call_tool("list_roots", {}, meta={"traceparent": traceparent})
        assert not r.is_error
    # Log lines are flushed to stdout every 50 ms; give them a moment.
    mine = []
    for _ in range(40):
        lines = [json.loads(line) for line in s.logs() if line.startswith("{")]
        mine = [l for l in lines if l.get("trace_id") == trace_id]
        if mine:
            break
        time.sleep(0.05)
    assert mine, "no log line carries the trace_id sent in _meta"
    assert any(l["fields"].get("gen_ai.tool.name") == "list_roots" for l in mine)


async def test_auth_is_required(fs_server, mode):
    s, _ = fs_server
    with pytest.raises(Exception):
        async with client(s.url, mode, token=None) as c:
            await c.list_tools()
    r = httpx2.post(s.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                    headers={"Accept": "application/json, text/event-stream"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
