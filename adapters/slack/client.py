"""The Slack Web API client every part of the adapter shares."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Settings

#: How often a rate-limited (429) call is retried, each after Slack's Retry-After.
RATE_LIMIT_RETRIES = 5


def make_web_client(settings: Settings, *, timeout: int = 30) -> AsyncWebClient:
    """An ``AsyncWebClient`` on ``SLACK_API_URL`` that honours 429 Retry-After
    and retries dropped connections, so a burst of posts is delayed, not lost."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=timeout)
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client
