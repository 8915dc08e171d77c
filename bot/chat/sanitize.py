"""Cleaning untrusted text (LLM output, thread messages) before it goes in a post.

Escaping with :func:`bot.chat.markup.esc` already keeps such text from *rendering*
as a ping or a link; this module removes the words themselves, so plain-text
renderers (console, Markdown export, notifications) and platforms that
auto-link bare URLs (Slack) never show a broadcast mention or a foreign link.
Only the paper's own arXiv URLs and code links found in its arXiv record are
allowed to survive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Hosts whose links count as "the paper's code" when arXiv's record names them.
CODE_HOSTS = ("github.com", "paperswithcode.com", "huggingface.co")

_ANGLE_TOKEN = re.compile(r"<[!@#][^<>]{0,200}>")  # <!channel>, <@U123>, <#C1>, <!subteam^..>
_DISCORD_TOKEN = re.compile(r"<(?:@[!&]?|#|a?:\w+:)\d+>")
_BROADCAST = re.compile(r"(?<![\w@])@+\s*(channel|here|everyone|all|group)\b", re.IGNORECASE)
_AT_USER = re.compile(r"(?<![\w@])@(?=[A-Za-z0-9_.\-]{2,})")
_MD_LINK = re.compile(r"\[([^\[\]]{0,300})\]\(\s*([^()\s]{1,2000})\s*\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_SPACES = re.compile(r"[ \t\u00a0]+")
#: C0 controls (not tab/newline/CR), DEL, and the invisible format characters
#: that reorder or hide text: zero-width space/joiners and bidi marks
#: (U+200B-U+200F), embeddings and overrides such as U+202E (U+202A-U+202E),
#: word joiner, invisible operators and the bidi isolates U+2066-U+2069
#: (U+2060-U+206F), the Arabic letter mark, the Mongolian vowel separator and
#: the BOM/zero-width no-break space.
_INVISIBLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
)
_CONTROL = re.compile(f"[{_INVISIBLE}]")
_SCHEME = re.compile(r"\bhttps?://(?=[^\s<>])", re.IGNORECASE)


def strip_invisible(text: str) -> str:
    """Untrusted text without the characters that hide or reorder what is
    shown (an RTL override can make ``exe.txt`` read ``txt.exe``) or that
    PostgreSQL cannot store (NUL). Applied by :func:`bot.chat.markup.esc`, so every
    untrusted string placed in a reply passes here."""
    return _CONTROL.sub("", text)


def unlink(text: str) -> str:
    """Bare ``http(s)://`` URLs in text shown as text, not as links.

    The scheme is dropped: ``https://evil.example/x`` reads ``evil.example/x``,
    which Discord never auto-links (it needs the scheme) and Slack does not
    either because the Slack renderer sends its text with ``verbatim: true``
    (no auto-linking of bare URLs or domains). The reader still sees where it
    points; nothing is clickable. Renderers apply this to plain text only: a
    link the core means (``[label](url)`` markup, e.g. the paper's own arXiv
    and code links) is a link span and is not touched.
    """
    return _SCHEME.sub("", text)


def paper_urls(arxiv_id: str, version: int | None = None) -> set[str]:
    """The arXiv URLs a paper's own post may show."""
    ids = {arxiv_id} | ({f"{arxiv_id}v{version}"} if version else set())
    return {f"https://arxiv.org/{kind}/{i}" for i in ids for kind in ("abs", "pdf")} | {
        f"http://arxiv.org/{kind}/{i}" for i in ids for kind in ("abs", "pdf")
    }


def code_links(*texts: str) -> list[str]:
    """Code links (GitHub, Papers with Code, Hugging Face) named in the paper's
    own arXiv record (abstract, comment, links), in order of appearance."""
    found: list[str] = []
    for text in texts:
        for raw in _URL.findall(text or ""):
            url = _strip_url(raw)
            if _is_code_host(url) and url not in found:
                found.append(url)
    return found


def _strip_url(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if url.lower().startswith("www."):
        url = "https://" + url
    return url


def _is_code_host(url: str) -> bool:
    m = re.match(r"https?://([^/:?#]+)", url, re.IGNORECASE)
    if not m:
        return False
    host = m.group(1).lower()
    return any(host == h or host.endswith("." + h) for h in CODE_HOSTS)


def _norm(url: str) -> str:
    return _strip_url(url).rstrip("/").lower()


def clean(text: str | None, *, allowed_urls: Iterable[str] = (), limit: int = 600) -> str:
    """Untrusted text made safe to place in a post: no broadcast or user pings,
    no platform tokens, no links except ``allowed_urls``, one line per
    paragraph, at most ``limit`` characters (cut at a word)."""
    if not text:
        return ""
    allowed = {_norm(u) for u in allowed_urls}
    out = _CONTROL.sub("", str(text))
    out = _ANGLE_TOKEN.sub("", out)
    out = _DISCORD_TOKEN.sub("", out)

    def md_link(m: re.Match[str]) -> str:
        label, url = m.group(1), m.group(2)
        return f"{label} ({url})" if _norm(url) in allowed else label

    out = _MD_LINK.sub(md_link, out)

    def bare(m: re.Match[str]) -> str:
        raw = m.group(0)
        url = _strip_url(raw)
        tail = raw[len(url) :] if raw.startswith(url) else ""
        return (url + tail) if _norm(url) in allowed else ""

    out = _URL.sub(bare, out)
    out = _BROADCAST.sub(lambda m: m.group(1), out)
    out = _AT_USER.sub("", out)
    out = out.replace("<", "‹").replace(">", "›")
    out = "\n".join(_SPACES.sub(" ", line).strip() for line in out.splitlines())
    out = re.sub(r"\n{3,}", "\n\n", out).strip()
    out = re.sub(r"\(\s*\)", "", out)
    return cap(out, limit)


def cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def one_line(text: str | None, *, allowed_urls: Iterable[str] = (), limit: int = 600) -> str:
    """Like :func:`clean`, folded onto one line (list items, tl;drs)."""
    return cap(" ".join(clean(text, allowed_urls=allowed_urls, limit=100_000).split()), limit)
