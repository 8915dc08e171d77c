"""What the parts of a Discord interaction we read must look like.

discord.py builds typed objects for users, members, guilds and channels (their
ids are integers, so always snowflakes), but leaves an interaction's ``data``
(command options, modal inputs) as the raw dict. That dict is checked here
with pydantic before a translator reads it: a command whose options are not
a list of ``{name, value}`` objects, or a modal whose inputs are not text
inputs, is ignored with one log line instead of raising in the handler.
Text has NUL characters removed (PostgreSQL cannot store them).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

log = logging.getLogger(__name__)


def strip_nul(text: str) -> str:
    return text.replace("\x00", "")


Text = Annotated[str, AfterValidator(strip_nul)]
#: Discord's rule for command and option names, as its API documentation
#: gives it ("Application Command Naming",
#: https://discord.com/developers/docs/interactions/application-commands):
#: 1-32 letters, numbers (``\p{N}``, so also "¼" or "²"), Devanagari or Thai
#: characters, dashes, underscores or apostrophes. ``\w`` had refused
#: names Discord accepts, such as "¼".
CommandName = Annotated[
    str, StringConstraints(pattern=r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
]
CustomId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class CommandOption(_Model):
    name: CommandName
    type: int = 3
    value: Text | int | float | bool | None = None
    focused: bool = False
    options: list[CommandOption] = Field(default_factory=list)


class CommandData(_Model):
    """An APPLICATION_COMMAND (or AUTOCOMPLETE) interaction's ``data``."""

    name: CommandName
    options: list[CommandOption] = Field(default_factory=list)


class ModalComponent(_Model):
    type: int
    custom_id: CustomId | None = None
    value: Text | None = None
    components: list[ModalComponent] = Field(default_factory=list)
    component: ModalComponent | None = None


class ModalData(_Model):
    """A MODAL_SUBMIT interaction's ``data``."""

    custom_id: CustomId
    components: list[ModalComponent] = Field(default_factory=list)


M = TypeVar("M", bound=_Model)


def parse(model: type[M], data: Any, *, what: str) -> M | None:
    """``data`` as ``model``, or None after one log line saying why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "data"
        log.warning("ignoring a malformed Discord %s (%s: %s)", what, where, err["msg"])
        return None
