"""The {{module}} package. What it does: README.md and SPEC.md.

Free text (the name, the summary) stays out of Python source, where a long
line would fail the linter; pyproject.toml carries the summary.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "slugify"]


def slugify(text: str) -> str:
    """Lower-case words of TEXT joined by single dashes."""
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words)
