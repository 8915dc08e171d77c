"""A :class:`~bot.chat.replies.Form` filled in as a text file: how the console edits
what Slack and Discord show as a modal.

The file has one section per field, each under a marker line
``=== name: Label ===``. A file without markers (``READGROUP_EDIT_FILE=post.md``)
is taken as the text of the first multi-line field; the other multi-line fields
become empty and one-line fields keep their values, so a plain Markdown file
replaces the whole post without duplicating the parts it did not mention.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from bot.chat.replies import Form

EDIT_FILE = "READGROUP_EDIT_FILE"
_MARK = re.compile(r"^=== (\w+)(?::[^\n]*)? ===[ \t]*$", re.M)


class FormUnavailable(Exception):
    """No way to edit here; the message says how to set one up."""


def to_text(form: Form) -> str:
    return "".join(f"=== {f.name}: {f.label} ===\n{f.initial.rstrip()}\n\n" for f in form.fields)


def from_text(form: Form, text: str) -> tuple[tuple[str, str], ...]:
    """The submitted fields (each cut to its ``max_length``)."""
    names = {f.name for f in form.fields}
    marks = [m for m in _MARK.finditer(text) if m.group(1) in names]
    values: dict[str, str] = {}
    if marks:
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            values[m.group(1)] = text[m.end() : end].strip()
        for f in form.fields:
            values.setdefault(f.name, f.initial)
    else:
        target = next((f for f in form.fields if f.multiline), form.fields[0])
        for f in form.fields:
            if f is target:
                values[f.name] = text.strip()
            else:
                values[f.name] = "" if f.multiline else f.initial
    return tuple((f.name, values[f.name][: f.max_length]) for f in form.fields)


async def fill_form(form: Form) -> tuple[tuple[str, str], ...]:
    """Read the form from ``$READGROUP_EDIT_FILE``, else open ``$VISUAL`` /
    ``$EDITOR`` on a temporary file holding the current values (in a thread:
    the editor blocks until the user quits it)."""
    return await asyncio.to_thread(_fill, form)


def _fill(form: Form) -> tuple[tuple[str, str], ...]:
    given = os.environ.get(EDIT_FILE)
    if given:
        try:
            return from_text(form, Path(given).read_text(encoding="utf-8"))
        except OSError as exc:
            raise FormUnavailable(f"Cannot read {EDIT_FILE}={given}: {exc.strerror}.") from exc
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise FormUnavailable(
            f"To edit here, set $EDITOR (e.g. EDITOR=nano) or point {EDIT_FILE} at a file "
            "with the new text, then press the button again."
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readgroup-edit.md"
        path.write_text(to_text(form), encoding="utf-8")
        code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        if code != 0:
            raise FormUnavailable(f"The editor ({editor}) exited with code {code}; nothing saved.")
        return from_text(form, path.read_text(encoding="utf-8"))
