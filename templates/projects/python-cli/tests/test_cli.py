"""Tests of the {{slug}} command line."""

import pytest

from {{module}} import __version__
from {{module}}.cli import greeting, main


def test_greeting_names_the_person():
    assert greeting("Ada") == "Hello, Ada!"


def test_main_prints_and_succeeds(capsys):
    assert main(["Ada"]) == 0
    assert capsys.readouterr().out == "Hello, Ada!\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
