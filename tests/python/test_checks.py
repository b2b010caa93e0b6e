"""mcp-server-lint and mcp-server-test driven by the official Python MCP SDK
in both protocol styles: a small Python project with one lint finding and
one failing test, read back as diagnostics and per-test results."""

from pathlib import Path

import pytest

from conftest import RunningServer, client

pytestmark = pytest.mark.anyio

PATH = "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    p = root / "demo"
    (p / "tests").mkdir(parents=True)
    (p / "setup.cfg").write_text("[flake8]\nmax-line-length = 100\n")
    (p / "calc.py").write_text("import os\n\n\ndef add(a, b):\n    return a + b\n")
    (p / "tests" / "test_calc.py").write_text(
        "import calc\n\n\ndef test_add():\n    assert calc.add(1, 2) == 3\n\n\n"
        "def test_wrong():\n    assert calc.add(2, 2) == 5, 'two and two'\n"
    )
    (p / "pytest.ini").write_text("[pytest]\npythonpath = .\naddopts = -p no:cacheprovider\n")
    return root


@pytest.fixture
def servers(tmp_path: Path, project: Path):
    lint = RunningServer(
        "mcp-server-lint",
        {"LINT_ROOTS": str(project), "LINT_PATH": PATH, "LINT_DATA_DIR": str(tmp_path / "lint")},
    )
    test = RunningServer(
        "mcp-server-test",
        {"TEST_ROOTS": str(project), "TEST_PATH": PATH, "TEST_DATA_DIR": str(tmp_path / "test"),
         "TEST_DATABASE_URL": f"sqlite:{tmp_path / 'test.db'}"},
    )
    yield lint, test
    lint.stop()
    test.stop()


async def test_lint_and_test_results_as_data(servers, mode):
    lint, test = servers
    async with client(lint.url, mode) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        assert {"lint_detect", "lint_run", "lint_explain"} <= tools
        assert "lint_format" not in tools, "a write tool without LINT_WRITE"
        r = await c.call_tool("lint_run", {"path": "demo", "tools": ["flake8"]})
        assert not r.is_error, r.content
        v = r.structured_content
        assert v["passed"] is False and v["status"] == "findings", v
        assert [(f["tool"], f["rule"], f["file"], f["line"]) for f in v["findings"]] == [
            ("flake8", "F401", "calc.py", 1)
        ], v

    async with client(test.url, mode) as c:
        r = await c.call_tool("test_run", {"path": "demo"})
        assert not r.is_error, r.content
        v = r.structured_content
        assert v["verdict"] == "failed" and v["passed"] is False, v
        assert v["totals"]["passed"] == 1 and v["totals"]["failed"] == 1, v
        failing = v["cases"][0]
        assert failing["id"] == "tests/test_calc.py::test_wrong" and failing["status"] == "failed", failing
        assert "two and two" in failing["message"], failing
        assert v["failed_ids"] == ["tests/test_calc.py::test_wrong"], v

        # The server keeps the failures itself: only they run again.
        r = await c.call_tool("test_run", {"path": "demo", "only_failed": True})
        assert r.structured_content["totals"]["tests"] == 1, r.structured_content
