"""All settings, from the environment and ``.env`` (names as in DESIGN.md)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """A setting needed for what was asked is missing or wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite:///readgroup.db", alias="DATABASE_URL")
    #: At start-up, how often to try a database server that refuses connections
    #: (it may be starting), and how long to wait between tries.
    database_connect_attempts: int = Field(5, ge=1, alias="DATABASE_CONNECT_ATTEMPTS")
    database_connect_retry_seconds: float = Field(2.0, ge=0, alias="DATABASE_CONNECT_RETRY_SECONDS")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    discord_token: SecretStr | None = Field(None, alias="DISCORD_TOKEN")
    discord_api_url: str = Field("https://discord.com/api/v10", alias="DISCORD_API_URL")
    discord_gateway_url: str = Field("wss://gateway.discord.gg/", alias="DISCORD_GATEWAY_URL")
    discord_guild_id: str | None = Field(None, alias="DISCORD_GUILD_ID")

    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", alias="ARXIV_API_URL")
    #: Seconds between arXiv requests (arXiv asks for 3; less only for a mirror
    #: or a test server), the first back-off of a request that failed (doubled
    #: per attempt), and the first wait before a paper arXiv could not give is
    #: asked for again in the background (doubled per try, at most 15 minutes).
    arxiv_interval_seconds: float = Field(3.0, alias="READGROUP_ARXIV_INTERVAL_SECONDS", ge=0)
    arxiv_backoff_seconds: float = Field(2.0, alias="READGROUP_ARXIV_BACKOFF_SECONDS", ge=0)
    arxiv_refetch_seconds: float = Field(10.0, alias="READGROUP_ARXIV_REFETCH_SECONDS", gt=0)

    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    #: LLM requests in flight at once (per process) while drafting a post.
    llm_concurrency: int = Field(4, ge=1, le=64, alias="READGROUP_LLM_CONCURRENCY")

    readgroup_organizers: str = Field("", alias="READGROUP_ORGANIZERS")
    #: How long a worker holds an accepted request or a card before another
    #: (a replica, or this process restarted) may take it over.
    lease_seconds: float = Field(60.0, alias="READGROUP_LEASE_SECONDS", gt=0)
    #: How long an approved post being published is held without a renewal
    #: before the recovery at start (or the next Approve) finishes it.
    publish_lease_seconds: float = Field(120.0, alias="READGROUP_PUBLISH_LEASE_SECONDS", gt=0)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        return v if v.endswith("/") else v + "/"

    @property
    def organizers(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.readgroup_organizers.split(",") if x.strip())

    def require(self, *names: str, where: str) -> None:
        """Stop start-up with a message naming each missing variable."""
        missing = [n for n in names if not getattr(self, n.lower())]
        if missing:
            raise SettingsError(
                f"Missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                f"Set {'them' if len(missing) > 1 else 'it'} in the environment or in .env "
                f"(see .env.example). {where}"
            )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
