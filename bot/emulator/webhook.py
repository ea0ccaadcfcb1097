"""Webhook delivery: after setWebhook the emulator POSTs each update as JSON to the bot's URL instead of
holding it for getUpdates, as Telegram does, so a bot behind a webhook (or several behind a balancer) can
be tested without Telegram.

As on Telegram: the X-Telegram-Bot-Api-Secret-Token header carries the secret, any 2xx confirms an update,
anything else (or no answer) is retried after a delay that doubles, getWebhookInfo reports the URL,
pending updates and the last error in Telegram's words, and getUpdates answers 409 while a webhook is set.
Unlike Telegram: plain http:// URLs and any port are accepted (the receiver is a local test server),
updates go one at a time in order (Telegram runs up to max_connections in parallel), and a method call
in the webhook's response body is not executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from urllib.parse import urlsplit

import aiohttp

from bot.emulator.protocol import JSON, Params, api, bad_request
from bot.emulator.updates import DEFAULT_UPDATE_TYPES

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CONNECTIONS = 40  # what Telegram reports when setWebhook gave none
WEBHOOK_TIMEOUT = 30.0  # seconds the receiver has to answer one update
MAX_BACKOFF = 32  # the retry delay doubles up to this multiple of webhook_retry_delay
_SECRET = re.compile(r"[A-Za-z0-9_-]*")


class WebhookMixin:
    """The webhook URL (empty: getUpdates mode) and the task that delivers pending updates to it."""

    def _init_webhook(self, retry_delay: float) -> None:
        self.webhook_url = ""
        self.webhook_retry_delay = retry_delay
        self.webhook_connections = 1  # POSTs at once (Telegram: up to max_connections); 1 keeps updates in order
        self._webhook_secret: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None  # (unix time, Telegram's last_error_message)

    @api("setWebhook")
    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:  # Telegram: setWebhook with an empty url removes the webhook
            await self._remove_webhook(drop_pending=params.flag("drop_pending_updates"))
            return True
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("invalid webhook URL specified")
        secret = params.text("secret_token") or ""
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        await self._stop_delivery()
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed_updates(params)
        self.webhook_url, self._webhook_secret, self._webhook_error = url, secret or None, None
        self._updates_signal.fire()  # a parked getUpdates ends with 409, as on Telegram
        self._webhook_task = asyncio.create_task(self._deliver_updates(url, secret), name="emulator-webhook")
        return True

    @api("deleteWebhook")
    async def _delete_webhook(self, params: Params) -> bool:
        await self._remove_webhook(drop_pending=params.flag("drop_pending_updates"))
        return True

    @api("getWebhookInfo")
    async def _get_webhook_info(self, params: Params) -> JSON:
        info: JSON = {"url": self.webhook_url, "has_custom_certificate": False}
        info["pending_update_count"] = len(self._updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self.webhook_url:
            info["max_connections"] = MAX_CONNECTIONS
            if self.allowed_updates != DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    async def _remove_webhook(self, *, drop_pending: bool) -> None:
        await self._stop_delivery()
        self.webhook_url, self._webhook_secret, self._webhook_error = "", None, None
        if drop_pending:
            self._updates.clear()
            self._updates_signal.fire()

    async def _stop_delivery(self) -> None:
        """Cancel the delivery task; an update it was posting stays pending."""
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_updates(self, url: str, secret: str) -> None:
        """POST the oldest pending update until the webhook takes it, then the next. A failure delays every
        update behind it, with the delay doubling on each failure in a row. With ``webhook_connections`` above
        one (benchmarks; Telegram's max_connections), that many POSTs run at once, each taking the oldest update
        not yet on its way (order across updates is then not kept, as on Telegram)."""
        headers = {"Content-Type": "application/json", **({SECRET_HEADER: secret} if secret else {})}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)) as session:
            if self.webhook_connections <= 1:
                await self._deliver_serially(session, url, headers)
                return
            in_flight: set[int] = set()
            await asyncio.gather(*(self._deliver_in_parallel(session, url, headers, in_flight)
                                   for _ in range(self.webhook_connections)))

    async def _deliver_serially(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        failures = 0
        while not self._closing:
            if not self._updates:
                await self._updates_signal.wait()
                continue
            update = self._updates[0]
            error = await self._post_update(session, url, headers, update)
            if error is None:
                failures = 0
                if self._updates and self._updates[0] is update:
                    self._updates.popleft()
                    self._updates_signal.fire()
                continue
            failures += 1
            await self._back_off(failures, error)

    async def _deliver_in_parallel(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                                   in_flight: set[int]) -> None:
        failures = 0
        while not self._closing:
            update = next((u for u in self._updates if id(u) not in in_flight), None)
            if update is None:
                await self._updates_signal.wait()
                continue
            in_flight.add(id(update))
            try:
                error = await self._post_update(session, url, headers, update)
            finally:
                in_flight.discard(id(update))
            if error is None:
                failures = 0
                with contextlib.suppress(ValueError):
                    self._updates.remove(update)
                self._updates_signal.fire()
                continue
            failures += 1
            await self._back_off(failures, error)

    async def _back_off(self, failures: int, error: str) -> None:
        """After a failed POST: remember it for getWebhookInfo, wait twice as long as after the last one."""
        self._webhook_error = (int(time.time()), error)
        base = self.webhook_retry_delay
        await asyncio.sleep(min(base * 2 ** (failures - 1), base * MAX_BACKOFF))

    @staticmethod
    async def _post_update(
        session: aiohttp.ClientSession, url: str, headers: dict[str, str], update: JSON
    ) -> str | None:
        """None if the webhook took the update (any 2xx), else the error as getWebhookInfo words it."""
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError:
            return "Webhook connection closed"
        if 200 <= response.status <= 299:
            return None
        return f"Wrong response from the webhook: {response.status} {response.reason}"
