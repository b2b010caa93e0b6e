"""mcp-client-observer driven by the official Python MCP SDK (mcp==2.3.0), in
both protocol styles: OTLP/JSON ingest behind the token, traces as trees and
searches through the tools, and the observer recording the Python client's
own call under the traceparent it sent."""

import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

import anyio
import pytest

import conftest
from conftest import TOKEN, RunningServer, client

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def observer(tmp_path: Path):
    s = RunningServer(
        "mcp-client-observer",
        {
            "OBSERVER_DATABASE_URL": f"sqlite:{tmp_path / 'observer.db'}",
            # No sql server here: project_audit degrades to spans with a warning.
            "MCP_SERVER_SQL_URL": "http://127.0.0.1:9/mcp",
        },
    )
    yield s
    s.stop()


@pytest.fixture
def self_exporting_observer(tmp_path: Path):
    # The observer exports its own spans to itself, with the token, every 200 ms.
    port = conftest.free_port()
    env = {
        "OBSERVER_DATABASE_URL": f"sqlite:{tmp_path / 'observer.db'}",
        "MCP_SERVER_SQL_URL": "http://127.0.0.1:9/mcp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {TOKEN}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    s = _start_on(port, env)
    yield s
    s.stop()


def _start_on(port: int, env: dict[str, str]) -> RunningServer:
    """Start the observer on a port chosen beforehand (its own OTLP endpoint names it)."""
    original = conftest.free_port
    conftest.free_port = lambda: port
    try:
        return RunningServer("mcp-client-observer", env)
    finally:
        conftest.free_port = original


def post_otlp_json(port: int, body: dict, token: str | None = TOKEN) -> int:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def span(trace_id: str, span_id: str, parent: str, service_name: str, name: str, start_ns: int, ms: float) -> dict:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service_name}}]},
        "scopeSpans": [
            {
                "spans": [
                    {
                        "traceId": trace_id,
                        "spanId": span_id,
                        "parentSpanId": parent,
                        "name": name,
                        "kind": 2,
                        "startTimeUnixNano": str(start_ns),
                        "endTimeUnixNano": str(start_ns + int(ms * 1e6)),
                        "attributes": [{"key": "gen_ai.tool.name", "value": {"stringValue": name.split(" ")[-1]}}],
                    }
                ]
            }
        ],
    }


async def test_ingest_and_query(observer, mode):
    trace_id = secrets.token_hex(16)
    root, child = secrets.token_hex(8), secrets.token_hex(8)
    now = time.time_ns()
    body = {
        "resourceSpans": [
            span(trace_id, root, "", "mcp-client-planner", "tools/call plan", now, 20),
            span(trace_id, child, root, "mcp-server-fs", "tools/call read_file", now + 2_000_000, 5),
        ]
    }
    assert post_otlp_json(observer.port, body, token=None) == 401
    assert post_otlp_json(observer.port, body) == 200

    async with client(observer.url, mode) as c:
        tools = await c.list_tools()
        names = {t.name for t in tools.tools}
        assert names == {"project_audit", "trace_get", "traces_search"}
        assert all(t.annotations.read_only_hint for t in tools.tools)

        r = await c.call_tool("trace_get", {"trace_id": trace_id})
        assert not r.is_error, r.content
        tree = r.structured_content["trace"]
        assert tree["span_count"] == 2
        assert tree["roots"][0]["span_id"] == root
        assert tree["roots"][0]["children"][0]["span_id"] == child
        assert tree["roots"][0]["children"][0]["service"] == "mcp-server-fs"
        assert "tools/call read_file" in r.content[0].text

        r = await c.call_tool("traces_search", {"service": "mcp-server-fs", "since": "1h"})
        assert [t["trace_id"] for t in r.structured_content["traces"]] == [trace_id]

        r = await c.call_tool("trace_get", {"trace_id": "nope"})
        assert r.is_error
        assert "32 hex digits" in r.content[0].text

        r = await c.call_tool("project_audit", {"project": "req-1"})
        assert not r.is_error
        assert len(r.structured_content["warnings"]) == 2


async def test_the_clients_own_call_is_recorded_under_its_traceparent(self_exporting_observer, mode):
    s = self_exporting_observer
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    async with client(s.url, mode) as c:
        r = await c.call_tool("traces_search", {}, meta={"traceparent": f"00-{trace_id}-{parent}-01"})
        assert not r.is_error
        deadline = time.time() + 20
        while True:
            r = await c.call_tool("trace_get", {"trace_id": trace_id})
            if not r.is_error:
                break
            assert time.time() < deadline, r.content
            await anyio.sleep(0.2)
    root = r.structured_content["trace"]["roots"][0]
    assert root["name"] == "tools/call traces_search"
    assert root["service"] == "mcp-client-observer"
    assert root["parent_span_id"] == parent
    assert root["parent_missing"] is True
