"""Prompts and post templates as files in ``prompts/``.

Each file is YAML front matter (model settings for prompts, a description for
templates) followed by a Jinja body. Loading by name keeps wording changes out
of code; the version hash (of the whole file) is stored with every output, so a
changed prompt invalidates cached summaries and each post says which template
wrote it.

Two Jinja environments:

* prompts render plain text for the model; untrusted data goes through the
  ``untrusted`` filter, which removes anything that could close its delimiter;
* post templates render neutral markup (:mod:`bot.chat.markup`); every ``{{ }}``
  output is escaped unless it is :class:`Markup` (made by the ``link``,
  ``bold``, ``italic`` filters), so a title or an LLM sentence can never
  become a link, a mention or formatting.

Jinja and YAML are imported when the first file is loaded, not with this
module: a process that renders nothing (an idle bot) does not load them.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.chat import markup

if TYPE_CHECKING:
    import jinja2

PACKAGE = "prompts"
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


class PromptError(ValueError):
    """A prompt or template file is missing or malformed."""


class Markup(str):
    """Text that is already neutral markup (not escaped again by templates)."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return markup.esc(value)


def _link(label: object, url: str) -> Markup:
    return Markup(markup.link(str(label), url))


def _bold(text: object) -> Markup:
    inner = text if isinstance(text, Markup) else markup.esc(text)
    return Markup(markup.bold(inner))


def _italic(text: object) -> Markup:
    inner = text if isinstance(text, Markup) else markup.esc(text)
    return Markup(f"_{inner}_" if inner else "")


def _raw(text: object) -> Markup:
    """Mark core-made markup as safe (never for untrusted text)."""
    return Markup(str(text))


_UNTRUSTED_TAG = re.compile(r"</?\s*untrusted[^>]*>", re.IGNORECASE)


def untrusted(text: object) -> str:
    """Untrusted data for a prompt: strip anything that looks like our
    delimiters so the data cannot end its own block."""
    return _UNTRUSTED_TAG.sub("", str(text or "")).strip()


def _markup_env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(link=_link, bold=_bold, italic=_italic, raw=_raw)
    return env


def _text_env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
    )
    env.filters["untrusted"] = untrusted
    return env


@dataclass(frozen=True)
class PromptFile:
    """A loaded prompt or template."""

    name: str
    meta: dict[str, Any]
    body: str
    version: str  # short hash of the whole file
    template: jinja2.Template = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "prompt"))

    def render(self, **context: Any) -> str:
        import jinja2

        try:
            return self.template.render(**context).strip() + "\n"
        except jinja2.TemplateError as exc:
            raise PromptError(f"prompts/{self.name}.md does not render: {exc}") from exc


def parse(name: str, text: str) -> PromptFile:
    """Parse one file's text (front matter + Jinja body)."""
    import jinja2
    import yaml

    m = _FRONT.match(text)
    if not m:
        raise PromptError(
            f"prompts/{name}.md has no front matter: start it with a '---' line, "
            "YAML settings, and another '---' line."
        )
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"prompts/{name}.md front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise PromptError(f"prompts/{name}.md front matter must be a YAML mapping")
    body = text[m.end() :]
    env = _markup_env() if meta.get("kind") == "template" else _text_env()
    try:
        template = env.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(
            f"prompts/{name}.md line {exc.lineno}: Jinja syntax error: {exc.message}"
        ) from exc
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return PromptFile(name, meta, body, version, template)


def folder() -> Path:
    """Where the files are. Read from the package's ``__path__`` (not
    importlib.resources) so an editable install made before ``prompts/`` had an
    ``__init__.py`` (a namespace package) works too."""
    package = importlib.import_module(PACKAGE)
    return Path(next(iter(package.__path__)))


@cache
def load(name: str) -> PromptFile:
    """A prompt or template by name (``tldr``, ``weekly_post``, ...)."""
    try:
        text = (folder() / f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"prompts/{name}.md not found") from exc
    return parse(name, text)


def names() -> list[str]:
    """Every prompt and template shipped in ``prompts/``."""
    return sorted(
        p.name.removesuffix(".md")
        for p in folder().iterdir()
        if p.name.endswith(".md") and not p.name.startswith("_")
    )
