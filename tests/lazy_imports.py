"""The packages a process loads only when a command first needs them, for
the tests and the start-up benchmark that check an idle process has not
loaded them: the LLM client (the first summary), Alembic (only to upgrade an
old schema), calendars (the first .ics), arXiv's client with requests and
lxml (the first paper looked up), Jinja and YAML (the first prompt or
template), pylatexenc (the first abstract with LaTeX)."""

AT_FIRST_USE = (
    "openai",
    "alembic",
    "icalendar",
    "arxiv",
    "requests",
    "lxml",
    "jinja2",
    "yaml",
    "pylatexenc",
)
