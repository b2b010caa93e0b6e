"""mcp-client-api-gateway driven by the official Python MCP SDK through its
one /mcp endpoint, in both protocol styles: the fs server's tools listed as
fs__{tool}, a call forwarded and answered as the server answers it, and a
tool hidden from a viewer key refused as an unknown tool.

The viewer key is made through the gateway's REST API with the fleet token
(POST /api/v1/keys), the way an operator makes the first keys."""

import json
import urllib.request
from pathlib import Path

import pytest

from conftest import TOKEN, RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def fleet(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("hello through the gateway\n")
    fs = RunningServer("mcp-server-fs", {"FS_ROOTS": str(root), "FS_WRITE": "true", "FS_DELETE": "true"})
    gw = RunningServer(
        "mcp-client-api-gateway",
        {
            "GATEWAY_UPSTREAMS": "fs",
            "MCP_SERVER_FS_URL": fs.url,
            "GATEWAY_DATABASE_URL": f"sqlite:{tmp_path / 'gateway.db'}",
            "GATEWAY_KEY_SECRET": "py-gateway-secret-0123456789abcdef0123",
        },
    )
    yield root, fs, gw
    gw.stop()
    fs.stop()


def make_key(gw: RunningServer, role: str) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{gw.port}/api/v1/keys",
        data=json.dumps({"name": f"py-{role}", "role": role}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["key"]


async def test_listing_and_calling_through_the_gateway(fleet, mode):
    root, fs, gw = fleet
    async with client(gw.url, mode) as c:
        names = [t.name for t in (await c.list_tools()).tools]
        assert {"gateway__servers", "gateway__whoami", "gateway__audit"} <= set(names)
        assert {"fs__read_file", "fs__stat", "fs__delete"} <= set(names), names
        r = await c.call_tool("fs__read_file", {"path": "hello.txt"})
        assert not r.is_error, r.content
        assert "hello through the gateway" in r.content[0].text
        servers = (await c.call_tool("gateway__servers", {})).structured_content["servers"]
        assert [(s["name"], s["state"]) for s in servers] == [("fs", "up")], servers

    # The same call straight to the server answers the same.
    async with client(fs.url, mode) as c:
        direct = await c.call_tool("read_file", {"path": "hello.txt"})
    assert direct.structured_content == r.structured_content


async def test_a_viewer_key_sees_read_only_tools_and_a_hidden_one_is_unknown(fleet, mode):
    root, fs, gw = fleet
    key = make_key(gw, "viewer")
    async with client(gw.url, mode, token=key) as c:
        tools = (await c.list_tools()).tools
        names = {t.name for t in tools}
        assert "fs__stat" in names and "fs__delete" not in names and "gateway__audit" not in names, names
        assert all(t.annotations.read_only_hint for t in tools), [t.name for t in tools]
        who = (await c.call_tool("gateway__whoami", {})).structured_content
        assert who["role"] == "viewer" and who["tools_visible"] == len(tools), who
        with pytest.raises(Exception) as refused:
            await c.call_tool("fs__delete", {"path": "hello.txt"})
        assert "Unknown tool" in str(refused.value), refused.value
    assert (root / "hello.txt").exists()
