"""How often the arXiv retry pass runs (it also posts the cards a dead
poster owed): every few seconds, sooner when the settings retry papers or
end card leases sooner."""

from __future__ import annotations

from bot.infra.settings import Settings
from bot.papers.fetch import RETRY_POLL_SECONDS, retry_pause


def _settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def test_the_default_pass_comes_every_few_seconds() -> None:
    assert retry_pause(_settings()) == RETRY_POLL_SECONDS == 5.0


def test_short_refetch_or_lease_settings_bring_the_pass_sooner() -> None:
    assert retry_pause(_settings(READGROUP_ARXIV_REFETCH_SECONDS="0.2")) == 0.2
    assert retry_pause(_settings(READGROUP_LEASE_SECONDS="2")) == 2.0
