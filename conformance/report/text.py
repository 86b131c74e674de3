"""Make an implementation's text safe to show: on a terminal, in XML, in Markdown.

An implementation under test writes whatever it likes into its messages, its standard error and
its hello name: ANSI escape sequences (which can clear the operator's terminal, retitle it or
hide the line before), NUL and BEL (which make JUnit XML unreadable). Everything the harness
shows passes through :func:`visible` first: each control character becomes a visible escape
(``\\x1b``), so the text is kept, readable and inert.
"""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls, lone surrogates and the two non-characters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "\n\t") -> str:
    """Return ``text`` with every control character outside ``keep`` written as an escape."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def one_line(text: str, limit: int = 300) -> str:
    """Return the first line of ``text``, controls escaped, cut to ``limit`` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    shown = visible(first, keep="")
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
