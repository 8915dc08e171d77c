"""A deferred handler imports its module on the first call, once, and keeps
the function's name for the router's log lines."""

from __future__ import annotations

import sys

import pytest

from bot.chat.deferred import Deferred


def test_the_module_is_imported_at_the_first_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    fn = Deferred("colorsys:rgb_to_hsv")
    assert fn.__name__ == "rgb_to_hsv"
    assert "colorsys" not in sys.modules
    assert fn(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules
    assert fn.resolve() is sys.modules["colorsys"].rgb_to_hsv


@pytest.mark.parametrize("target", ["colorsys", "colorsys:", ":rgb_to_hsv", ""])
def test_a_target_without_module_and_name_is_refused_at_once(target: str) -> None:
    with pytest.raises(ValueError, match=r"package\.module:function"):
        Deferred(target)


def test_a_name_that_is_not_there_fails_when_called() -> None:
    fn = Deferred("colorsys:no_such_function")
    with pytest.raises(AttributeError):
        fn()
