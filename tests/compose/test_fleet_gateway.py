"""The api-gateway of the composed fleet, from the host, as a person meets it:
on its published port (GATEWAY_PORT on 127.0.0.1, the only program port
published), with the fleet token to make the first API key, then that key for
everything else — the REST API, the aggregated /mcp endpoint and the web UI.

Environment: GATEWAY_PORT and FLEET_SECRETS_DIR (set by `compose_scenario`).
"""

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRETS = Path(os.environ.get("FLEET_SECRETS_DIR", ROOT / "secrets"))
BASE = f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8203')}"
# Straight to the published port, whatever proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method: str, path: str, token: str | None, body: dict | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON body or text)."""
    h = {"Accept": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=h)
    try:
        with OPENER.open(req, timeout=30) as r:
            raw, status, hdrs = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def mcp(token: str, method: str, params: dict, rid: int = 1):
    """A 2026-07-28 (stateless) request to the gateway's /mcp."""
    params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                  "io.modelcontextprotocol/clientInfo": {"name": "compose-test", "version": "1"},
                                  "io.modelcontextprotocol/clientCapabilities": {}}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
               "Mcp-Method": method}
    if "name" in params:
        headers["Mcp-Name"] = params["name"]
    return call("POST", "/mcp", token, {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}, headers)


def test_the_gateway_is_the_front_door():
    fleet_token = (SECRETS / "mcp_token").read_text().strip()
    status, _, body = call("GET", "/health", None)
    assert status == 200, body
    # Nothing else without a credential.
    for path in ["/api/v1/servers", "/openapi.json", "/ui/requests"]:
        status, _, _ = call("GET", path, None)
        assert status in (401, 303), (path, status)

    # The first key is made with the fleet token; it is shown once.
    status, _, key = call("POST", "/api/v1/keys", fleet_token, {"name": "compose-operator", "role": "operator"})
    assert status == 201, key
    secret = key["key"]
    assert secret.startswith("mcpf_")

    # Every upstream answers inside the compose network.
    status, _, servers = call("GET", "/api/v1/servers", secret)
    assert status == 200, servers
    states = {s["name"]: s["state"] for s in servers["servers"]}
    assert states and all(v == "up" for v in states.values()), states

    # One MCP endpoint: the fleet's tools by qualified name, filtered by role
    # (an operator sees no destructive tool).
    status, _, listed = mcp(secret, "tools/list", {})
    assert status == 200, listed
    tools = {t["name"]: t for t in listed["result"]["tools"]}
    assert "planner__plan_status" in tools and "git__git_status" in tools, sorted(tools)
    assert not [n for n, t in tools.items() if t.get("annotations", {}).get("destructiveHint", True)
                and not t.get("annotations", {}).get("readOnlyHint")], "an operator sees no destructive tool"
    status, _, called = mcp(secret, "tools/call", {"name": "planner__templates_list", "arguments": {}}, 2)
    assert status == 200 and not called["result"].get("isError"), called

    # The REST description and the UI are served from the image, offline.
    status, _, spec = call("GET", "/openapi.json", secret)
    assert status == 200 and spec["openapi"].startswith("3.1"), spec
    status, _, audit = call("GET", "/api/v1/audit", secret)
    assert status == 403, "the audit is for admins"

    # A revoked key is refused at once.
    status, _, _ = call("DELETE", f"/api/v1/keys/{key['id']}", fleet_token)
    assert status == 204
    status, _, _ = call("GET", "/api/v1/servers", secret)
    assert status == 401
