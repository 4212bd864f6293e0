"""Text that must show as written: computed values and typed input placed inside Markdown."""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in Markdown (CommonMark), and then shows as itself.
# Escaping all of them turns off each construct a value could start: a quote ("> 99.9%"), a list ("1. "), emphasis,
# a link or a bare URL, a heading, a table, inline code, LaTeX ("$...$") and Streamlit's ":red[...]" directives.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def literal(text: object) -> str:
    """`text` escaped so that Markdown shows it character for character; line breaks become spaces."""
    return _PUNCTUATION.sub(r"\\\1", re.sub(r"\s+", " ", str(text)))


def code(text: str) -> str:
    """`text` as inline code: shown exactly as typed, with no Markdown, link, URL or LaTeX read inside it.

    The fence is one backtick longer than the longest run inside, and spaces pad it, so backticks in the text show
    too (CommonMark strips one space at each end of a padded code span).
    """
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    return f"{fence} {' '.join(text.splitlines())} {fence}"


def error_text(error: Exception) -> str:
    """An error's message for st.error: the typed part it quotes (its `typed`, in “…”) as inline code, the rest
    escaped, so that nothing typed can render as Markdown."""
    message = str(error)
    if message:
        message = message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
    typed = getattr(error, "typed", None)
    if typed is None:
        return literal(message)
    for quoted in (f"“{typed}”", f"“{typed}…”"):
        before, found, after = message.partition(quoted)
        if found:
            return literal(before) + code(typed + ("…" if quoted.endswith("…”") else "")) + literal(after)
    return literal(message)
