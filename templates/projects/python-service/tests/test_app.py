"""Tests of the service.

{{slug}} is started on a free port and asked over HTTP.
"""

import json
import threading
import urllib.error
import urllib.request

import pytest

from {{module}} import __version__
from {{module}}.app import make_server


@pytest.fixture()
def base_url():
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.load(response)


def test_health_answers_ok(base_url):
    assert get(base_url + "/health") == (200, {"status": "ok"})


def test_root_says_what_it_is(base_url):
    status, body = get(base_url + "/")
    assert status == 200
    assert body["name"] == "{{slug}}"
    assert body["version"] == __version__


def test_unknown_paths_are_404(base_url):
    with pytest.raises(urllib.error.HTTPError) as error:
        get(base_url + "/nope")
    assert error.value.code == 404
