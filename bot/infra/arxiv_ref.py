"""The one parser of arXiv references (ids and links) that users type or paste.

Everything that turns user text into an arXiv id goes through `parse_ref`, so
that "the same paper" means the same thing everywhere (dedup, cache keys, links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ArxivId", "InvalidReference", "abs_url_of", "parse_ref", "pdf_url_of"]

_EXAMPLES = (
    "an id like 2401.01234, a link like https://arxiv.org/abs/1706.03762v5, "
    "or an old-style id like hep-th/9901001"
)
_SHOWN_MAX = 80

# Ids are matched as whole strings; the patterns are linear (no nested
# quantifiers over the same characters) so hostile input cannot make them slow.
_VERSION = r"(?:v(?P<version>[1-9]\d{0,5}))?"
_NEW = r"(?P<yymm>\d{4})\.(?P<num>\d{4,5})"
_OLD = (
    r"(?P<archive>[a-z]+(?:-[a-z]+)*)"
    r"(?:\.(?P<subject>[A-Za-z]+(?:-[A-Za-z]+)*))?"
    r"/(?P<oyymm>\d{4})(?P<onum>\d{3})"
)
_ID_RE = re.compile(rf"(?:{_NEW}|{_OLD}){_VERSION}")
_LOOSE_NEW_RE = re.compile(r"\d{4}\.\d+(?:v\d*)?")
_PREFIX_RE = re.compile(r"arxiv:\s*", re.IGNORECASE)
_URL_RE = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>[^/?#\s]+)"
    r"(?P<path>/[^?#\s]*)?"
    r"(?:\?[^#\s]*)?"
    r"(?:#\S*)?"
)

# host -> the first path segments that lead to a paper on that host.
_HOSTS: dict[str, frozenset[str]] = {
    "arxiv.org": frozenset({"abs", "pdf", "html"}),
    "export.arxiv.org": frozenset({"abs", "pdf", "html"}),
    "alphaxiv.org": frozenset({"abs", "overview"}),
    "huggingface.co": frozenset({"papers"}),
    "ar5iv.org": frozenset({"abs", "html"}),
    "ar5iv.labs.arxiv.org": frozenset({"abs", "html"}),
}


class InvalidReference(ValueError):
    """A reference that is not an arXiv id or link; `str()` is shown to the user as is."""

    def __init__(self, text: str, reason: str = "it is not an arXiv id or link") -> None:
        self.text = text
        self.reason = reason
        super().__init__(text, reason)

    def __str__(self) -> str:
        shown = " ".join(self.text.split())
        if len(shown) > _SHOWN_MAX:
            shown = shown[: _SHOWN_MAX - 1] + "…"
        return f'"{shown}" is not an arXiv paper: {self.reason}. Use {_EXAMPLES}.'


@dataclass(frozen=True)
class ArxivId:
    """A canonical arXiv id: old-style ids lose their subject class, as arXiv's own do."""

    base: str
    version: int | None = None

    def __post_init__(self) -> None:
        # Ids also come back from the database and from arXiv; refusing
        # non-canonical ones here keeps every ArxivId usable as a key.
        m = _ID_RE.fullmatch(self.base)
        if m is None or m["version"] or m["subject"] or _problem(m) is not None:
            raise InvalidReference(self.base, "it is not a canonical arXiv id")
        if self.version is not None and not 1 <= self.version <= 999_999:
            raise InvalidReference(str(self.version), "versions start at v1")

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"

    @property
    def abs_url(self) -> str:
        """The paper's landing page; unversioned so it always shows the latest."""
        return abs_url_of(self.base)

    @property
    def pdf_url(self) -> str:
        """The latest PDF."""
        return pdf_url_of(self.base)


def abs_url_of(arxiv_id: str) -> str:
    """The one spelling of a paper's arXiv landing page (the id as stored, so
    an unversioned id always shows the latest version)."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url_of(arxiv_id: str) -> str:
    """The one spelling of a paper's arXiv PDF link."""
    return f"https://arxiv.org/pdf/{arxiv_id}"


def _problem(m: re.Match[str]) -> str | None:
    """Why an id that has the right shape still cannot exist, or None."""
    if m["yymm"] is not None:
        yymm, num = m["yymm"], m["num"]
        if not 1 <= int(yymm[2:]) <= 12:
            return f"month {yymm[2:]} does not exist (ids start with YYMM)"
        if len(num) == 4 and not "0704" <= yymm <= "1412":
            return "4-digit paper numbers were used from 0704 to 1412 only"
        if len(num) == 5 and yymm < "1501":
            return "5-digit paper numbers start with 1501"
        if int(num) == 0:
            return "paper numbers start at 1"
        return None
    yymm, num = m["oyymm"], m["onum"]
    if not 1 <= int(yymm[2:]) <= 12:
        return f"month {yymm[2:]} does not exist (old-style ids end in YYMMNNN)"
    if "0712" < yymm < "9101":
        return "old-style ids run from 1991 to 2007"
    if int(num) == 0:
        return "paper numbers start at 1"
    return None


def _from_match(text: str, m: re.Match[str]) -> ArxivId:
    problem = _problem(m)
    if problem is not None:
        raise InvalidReference(text, problem)
    base = f"{m['yymm']}.{m['num']}" if m["yymm"] else f"{m['archive']}/{m['oyymm']}{m['onum']}"
    return ArxivId(base, int(m["version"]) if m["version"] else None)


def _parse_url(text: str, url: str) -> ArxivId:
    m = _URL_RE.fullmatch(url)
    if m is None:
        raise InvalidReference(text)
    scheme = (m["scheme"] or "https").lower()
    host = m["host"].lower().removeprefix("www.")
    if scheme not in ("http", "https") or host not in _HOSTS:
        raise InvalidReference(text, "it is not an arXiv id or a link to an arXiv paper")
    kind, _, rest = (m["path"] or "/").removeprefix("/").partition("/")
    if kind not in _HOSTS[host] or not rest:
        raise InvalidReference(text, f"it is a link to {host}, but not to a paper page")
    rest = rest.removesuffix("/")
    if kind == "pdf":
        rest = rest.removesuffix(".pdf")
    if kind == "html":
        # HTML renderings add sections and assets after the id (…/html/ID/#S2).
        found = _ID_RE.match(rest)
        if found is not None and found.end() < len(rest) and rest[found.end()] != "/":
            found = None
    else:
        found = _ID_RE.fullmatch(rest)
    if found is None:
        raise InvalidReference(text, f"the link does not end in an arXiv id ({rest[:30]!r})")
    return _from_match(text, found)


def parse_ref(text: str) -> ArxivId:
    """Parse any accepted reference; raises only InvalidReference, with a user-facing why."""
    s = text.strip()
    if s.startswith("<") and s.endswith(">"):
        # Slack wraps pasted links as <url> or <url|label>.
        s = s[1:-1].partition("|")[0].strip()
    if not s:
        raise InvalidReference(text, "it is empty")
    prefix = _PREFIX_RE.match(s)
    if prefix is not None:
        s = s[prefix.end() :]
    m = _ID_RE.fullmatch(s)
    if m is not None:
        return _from_match(text, m)
    if prefix is None and ("." in s or "/" in s) and not _LOOSE_NEW_RE.fullmatch(s):
        return _parse_url(text, s)
    if _LOOSE_NEW_RE.fullmatch(s):
        raise InvalidReference(text, "new-style ids are YYMM.NNNNN, with an optional vN")
    raise InvalidReference(text)
