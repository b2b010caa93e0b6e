"""The {{module}} package: a small HTTP service.

What it does: README.md and SPEC.md.

Free text (the name, the summary) stays out of Python source, where a long
line would fail the linter; pyproject.toml carries the summary.
"""

__version__ = "0.1.0"
