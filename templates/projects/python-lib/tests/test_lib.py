"""Tests of the {{module}} package."""

import {{module}}


def test_version_is_set():
    assert {{module}}.__version__ == "0.1.0"


def test_slugify():
    assert {{module}}.slugify("Hello,  World!") == "hello-world"
    assert {{module}}.slugify("") == ""
