"""Replies as readable plain text for the terminal."""

from __future__ import annotations

from bot.chat.markup import plain
from bot.chat.replies import Button, Buttons, Context, Divider, Fields, Header, Reply, Text


class ButtonBook:
    """Numbers the buttons shown so far, so `/press N` can press one."""

    def __init__(self) -> None:
        self._buttons: dict[int, Button] = {}
        self._next = 1

    def number(self, button: Button) -> int:
        n = self._next
        self._buttons[n] = button
        self._next += 1
        return n

    def get(self, n: int) -> Button | None:
        return self._buttons.get(n)

    @property
    def shown(self) -> int:
        """How many buttons this run has numbered (1 to ``shown``)."""
        return self._next - 1


def render(reply: Reply, book: ButtonBook | None = None, *, where: str = "") -> str:
    lines: list[str] = []
    if where:
        lines.append(f"── {where} ──")
    if reply.private:
        lines.append("(only you can see this)")
    for block in reply.blocks:
        match block:
            case Header(text=t):
                lines.append(t)
                lines.append("═" * min(len(t), 72))
            case Text(markup=m):
                lines.append(plain(m))
            case Fields(pairs=pairs):
                lines.extend(f"  {label}: {plain(value)}" for label, value in pairs)
            case Context(markup=m):
                lines.append(f"  {plain(m)}")
            case Buttons(buttons=bs):
                if book is None:
                    lines.append("  " + "  ".join(f"[{b.label}]" for b in bs))
                else:
                    lines.append(
                        "  " + "  ".join(f"[{b.label} → /press {book.number(b)}]" for b in bs)
                    )
            case Divider():
                lines.append("  " + "─" * 30)
    return "\n".join(lines)
