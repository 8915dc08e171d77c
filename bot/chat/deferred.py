"""A function named by ``"package.module:function"`` and imported the first
time it is called.

The router registers every command at start, and ``/help`` lists them all,
but a feature's handlers need that feature's tables and queries: loading the
digest (its tables, drafts, rendering) cost 47 ms of the console's start for a
``/help`` that never uses it. A feature's routes name their handlers this way
instead (:mod:`bot.digest.routes`); the first press or command imports them.
"""

from __future__ import annotations

import importlib
from typing import Any


class Deferred:
    """Calls ``module:function``, importing the module on the first call."""

    def __init__(self, target: str) -> None:
        module, sep, name = target.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"expected 'package.module:function', got {target!r}")
        self.target = target
        self.__name__ = name
        self._module, self._name = module, name
        self._fn: Any = None

    def resolve(self) -> Any:
        """The function itself (imported now if it was not yet)."""
        if self._fn is None:
            self._fn = getattr(importlib.import_module(self._module), self._name)
        return self._fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Deferred({self.target!r})"
