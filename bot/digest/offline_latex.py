"""LaTeX in arXiv abstracts turned into readable text: ``$O(L^2)$`` → O(L²),
``$\\alpha$`` → α, ``\\emph{x}`` → x, ``25\\%`` → 25%, ``Jensen--Shannon`` →
Jensen–Shannon.

The symbols, accents and text macros come from pylatexenc's LatexNodes2Text
(hundreds of macros, kept up to date). Around it this module does what that
library does not do for plain prose with a little LaTeX in it:

- which ``$`` open math: pandoc's rule (an opening ``$`` has a non-space right
  after it, a closing one a non-space right before it and no digit after it,
  unless the math ends in a letter or brace as in ``$\\sim$10x``), so
  "awarded $35,000" and "$5 and $10" stay prices;
- outside math, ``%``, ``&``, ``#`` and ``~`` are plain characters (LaTeX would
  read "25% accuracy" as the start of a comment and drop the rest);
- ``^``/``_`` become superscript/subscript characters when every character has
  one (``L^2`` → L², ``a_{ij}`` → aᵢⱼ), else ``^(…)``;
- citations and cross-references (``\\cite{…}``, ``\\ref{…}``) are dropped,
  ``\\href{url}{text}`` keeps its text;
- a parse error never reaches the reader: the macro names are dropped instead.

pylatexenc is loaded at the first abstract that has LaTeX in it (a digest),
not with this module: importing it and building its macro tables takes about
80 ms, which the commands that import this module never need.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_SUP = dict(zip("0123456789+-=()niT⊤−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵀ⁻", strict=True))
_SUP.update(zip("abcdefghjklmoprstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True))
_SUB = dict(zip("0123456789+-=()aeoxhklmnpstij−", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼ₋", strict=True))

#: pandoc's tex_math_dollars: no space inside either dollar, no digit after the closing
#: one (unless the math ends in a letter or a brace: ``$\\sim$10x``).
_MATH = re.compile(
    r"(?<![\\$])\$(?=[^\s$])((?:\\.|[^$\\])*?)(?<=[^\s\\])\$(?:(?![\d$])|(?<=[A-Za-z}]\$))"
)
#: Operator names whose macro LaTeX spaces itself (``\log n``): kept as words.
_OPERATOR = re.compile(r"\\(log|ln|exp|sin|cos|tan|max|min|sup|inf|lim|det|arg|dim|Pr)(?![A-Za-z])")
_DROP = re.compile(
    r"\s*~?\\(?:cite[pt]?|citep|citet|ref|eqref|label|footnote)\*?(?:\[[^\]]*\])?\{[^{}]*\}"
)
_HREF = re.compile(r"\\href\{[^{}]*\}\{([^{}]*)\}")
_URL = re.compile(r"\\url\{([^{}]*)\}")
_PLAIN = re.compile(r"(?<!\\)([%&#~])")
_DOLLAR = re.compile(r"(?<!\\)\$")
_LATEXISH = re.compile(r"[\\{}^]|--|``|''")
_SCRIPT = re.compile(r"([\^_])(?:\{((?:[^{}]|\{[^{}]*\})*)\}|(\\[A-Za-z]+|[A-Za-z0-9]))")
_TEXT_SCRIPT = re.compile(r"([\^_])\{((?:[^{}]|\{[^{}]*\})*)\}|(\^)(\d+)\b")
_RELATION = re.compile(r"\s*([=≤≥≠≈<>∈∉⊂⊆≡→])\s*")
_MACRO = re.compile(r"\\[A-Za-z]+\*?|\\(.)")


def readable(text: str) -> str:
    """``text`` with its LaTeX turned into plain Unicode text; text without
    LaTeX comes back unchanged."""
    if "$" not in text and not _LATEXISH.search(text):
        return text
    text = _DROP.sub("", text)
    text = _HREF.sub(r"\1", text)
    text = _URL.sub(r"\1", text)
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        out.append(_prose(text[pos : m.start()]))
        out.append(_math(m.group(1)))
        pos = m.end()
    out.append(_prose(text[pos:]))
    return " ".join("".join(out).split())


def _prose(s: str) -> str:
    if not s or not _LATEXISH.search(s):
        return s
    s = _TEXT_SCRIPT.sub(_text_script, s)
    s = _PLAIN.sub(r"\\\1", s).replace("\\~", "\\textasciitilde{}")
    s = _DOLLAR.sub(r"\\$", s)
    return _convert(s)


def _math(s: str) -> str:
    s = _OPERATOR.sub(r"\1", _SCRIPT.sub(_script, s))
    text = _convert(s)
    return _RELATION.sub(lambda m: f" {m.group(1)} ", text).strip()


def _text_script(m: re.Match[str]) -> str:
    if m.group(3):
        return _shift("^", m.group(4))
    return _shift(m.group(1), _math(m.group(2)))


def _script(m: re.Match[str]) -> str:
    body = m.group(2) if m.group(2) is not None else m.group(3)
    return _shift(m.group(1), _math(body) if "\\" in body or "{" in body else body)


def _shift(mark: str, body: str) -> str:
    table = _SUP if mark == "^" else _SUB
    body = body.strip()
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    return f"{mark}{body}" if len(body) == 1 else f"{mark}({body})"


@functools.cache
def _to_text() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


def _convert(s: str) -> str:
    try:
        return str(_to_text().latex_to_text(s))
    except Exception:  # a malformed macro: drop the markup, keep the words
        return _MACRO.sub(lambda m: m.group(1) or "", s).replace("{", "").replace("}", "")
