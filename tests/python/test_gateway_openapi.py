"""The api-gateway's REST API against its own OpenAPI description, with
schemathesis: the real release binaries (the gateway in front of the fs and
log servers), an admin API key, generated requests for every operation whose
upstream runs here. No answer may be a 5xx, and every answer must match the
status codes, media types and schemas the document promises.

The request, approval and trace routes need the agent, the planner and the
observer; without them they answer 503 by design, so they are left to the
fleet's end-to-end test (tests/it/api.rs checks their error paths).
"""

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import TOKEN, RunningServer

ST = Path(os.environ.get("VIRTUAL_ENV", Path.home() / ".cache/mcp-fleet/venv")) / "bin" / "st"


@pytest.fixture
def gateway(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    fs = RunningServer("mcp-server-fs", {"FS_ROOTS": str(root)})
    log = RunningServer("mcp-server-log", {"LOG_DATABASE_URL": f"sqlite:{tmp_path / 'log.db'}"})
    gw = RunningServer(
        "mcp-client-api-gateway",
        {
            "GATEWAY_DATABASE_URL": f"sqlite:{tmp_path / 'gw.db'}",
            "GATEWAY_KEY_SECRET": "schemathesis-secret-0123456789abcdef0123",
            "GATEWAY_UPSTREAMS": "fs,log",
            "GATEWAY_RATE_PER_MINUTE": "0",
            "GATEWAY_TOOL_QUOTA_PER_MINUTE": "0",
            "MCP_SERVER_FS_URL": fs.url,
            "MCP_SERVER_LOG_URL": log.url,
        },
    )
    yield gw
    for s in (gw, log, fs):
        s.stop()


def admin_key(port: int) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/keys",
        data=json.dumps({"name": "schemathesis", "role": "admin"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
        return json.loads(r.read())["key"]


def test_every_answer_matches_the_document_and_none_is_a_5xx(gateway, tmp_path: Path):
    key = admin_key(gateway.port)
    base = f"http://127.0.0.1:{gateway.port}"
    out = subprocess.run(
        [
            str(ST),
            "run",
            f"{base}/openapi.json",
            "--url",
            base,
            "-H",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
            "negative_data_rejection",
            "--exclude-path-regex",
            "^/api/v1/(requests|approvals|traces)",
            "--max-examples",
            "30",
            "--seed",
            "1",
            "--workers",
            "1",
            "--request-timeout",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert out.returncode == 0, f"schemathesis failed:\n{out.stdout[-8000:]}\n{out.stderr[-2000:]}"
    # The run really exercised the API: every operation not excluded above
    # (keys, tools, servers, logs, audit), not an empty selection.
    tested = re.search(r"Tested:\s+(\d+)", out.stdout)
    assert tested and int(tested.group(1)) >= 8, out.stdout[-3000:]
    # Nothing went wrong inside the gateway either.
    assert not [l for l in gateway.logs() if '"level":"ERROR"' in l], "\n".join(gateway.logs()[-20:])
