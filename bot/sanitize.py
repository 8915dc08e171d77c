"""Cleaning untrusted text (LLM output, thread messages) before it goes in a post.

Escaping with :func:`bot.markup.esc` already keeps such text from *rendering*
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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f]")


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
