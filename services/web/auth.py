"""Signing in to the board without a password: Telegram Mini App init data, one-time links, sessions.

* Init data (``Telegram.WebApp.initData``, or ``tgWebAppData`` in the Mini App URL's fragment) is a query string
  signed by Telegram: ``secret = HMAC_SHA256(key="WebAppData", msg=bot_token)``, then
  ``hash = hex(HMAC_SHA256(key=secret, msg=data_check_string))`` where the data-check string is every received
  field but ``hash``, as ``key=value`` (values decoded), sorted by key, joined with ``\\n``. ``auth_date`` (Unix
  seconds) older than ``max_age`` is refused, as is one from the future beyond a minute of clock skew.
* A one-time link (``/login/<token>``), which the bot gives staff: ten minutes, one use (a compare-and-set on
  ``used_at``, so two clicks at once sign in once).
* Either opens a session: a random token in an HttpOnly cookie, its SHA-256 in ``web_sessions``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.web.tokens import digest, new_token, well_formed
from storage.models import WebLogin, WebSession

INIT_DATA_MAX_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=1)
LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)


class InitDataError(StrEnum):
    MALFORMED = "malformed"  # not a query string with hash, auth_date and user
    BAD_HASH = "bad_hash"  # not signed with this bot's token (forged or altered)
    EXPIRED = "expired"  # auth_date older than the maximum age (or from the future)


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    last_name: str
    username: str | None
    auth_date: datetime

    @property
    def full_name(self) -> str:
        return " ".join(x for x in (self.first_name, self.last_name) if x)


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram would put on ``fields`` (for tests and the local emulator's Mini App button)."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def check_init_data(init_data: str, bot_token: str, *, now: datetime,
                    max_age: timedelta = INIT_DATA_MAX_AGE) -> WebAppUser | InitDataError:
    """The Telegram user the init data names, if Telegram signed it for this bot recently; else why not."""
    require_aware(now)
    try:
        pairs = parse_qsl(init_data or "", keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return InitDataError.MALFORMED
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields or "auth_date" not in fields:
        return InitDataError.MALFORMED
    if not hmac.compare_digest(sign_init_data(fields, bot_token), fields["hash"].lower()):
        return InitDataError.BAD_HASH
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = json.loads(fields.get("user") or "null")
        uid = int(user["id"])
    except (ValueError, TypeError, KeyError, OverflowError):
        return InitDataError.MALFORMED
    if signed_at < now - max_age or signed_at > now + CLOCK_SKEW:
        return InitDataError.EXPIRED
    return WebAppUser(uid, str(user.get("first_name") or ""), str(user.get("last_name") or ""),
                      user.get("username"), signed_at)


# --- one-time links -------------------------------------------------------------------------------------------


async def create_link(s: AsyncSession, *, tg_user_id: int, now: datetime, ttl: timedelta = LINK_TTL) -> str:
    """A one-time sign-in token for ``tg_user_id`` (the caller checked they are staff); expired ones are dropped."""
    require_aware(now)
    await s.exec(delete(WebLogin).where(col(WebLogin.expires_at) < now))  # type: ignore[call-overload]
    token = new_token()
    s.add(WebLogin(token_hash=digest(token), tg_user_id=tg_user_id, created_at=now, expires_at=now + ttl))
    await s.flush()
    return token


async def redeem_link(s: AsyncSession, token: str, *, now: datetime) -> int | None:
    """The user a link signs in, once, within its time; None for a used, expired, unknown or malformed one."""
    require_aware(now)
    if not well_formed(token):
        return None
    h = digest(token)
    used = await s.exec(update(WebLogin).where(  # type: ignore[call-overload]
        col(WebLogin.token_hash) == h, col(WebLogin.used_at).is_(None), col(WebLogin.expires_at) > now,
    ).values(used_at=now))
    if not used.rowcount:
        return None
    return (await s.exec(select(WebLogin.tg_user_id).where(WebLogin.token_hash == h))).one()


# --- sessions ---------------------------------------------------------------------------------------------------


async def open_session(s: AsyncSession, *, tg_user_id: int, via: str, now: datetime,
                       ttl: timedelta = SESSION_TTL) -> str:
    require_aware(now)
    await s.exec(delete(WebSession).where(col(WebSession.expires_at) < now))  # type: ignore[call-overload]
    token = new_token(24)
    s.add(WebSession(token_hash=digest(token), tg_user_id=tg_user_id, via=via, created_at=now, expires_at=now + ttl))
    await s.flush()
    return token


async def session_user(s: AsyncSession, token: str | None, *, now: datetime) -> int | None:
    """Who a session cookie belongs to, while it lasts."""
    if not token or not well_formed(token):
        return None
    row = await s.get(WebSession, digest(token))
    if row is None or row.expires_at <= require_aware(now):
        return None
    return row.tg_user_id


async def close_session(s: AsyncSession, token: str | None) -> None:
    if token and well_formed(token):
        await s.exec(delete(WebSession).where(col(WebSession.token_hash) == digest(token)))  # type: ignore[call-overload]


def csrf_token(session_token: str, secret: bytes) -> str:
    """The form token of a session: board forms carry it, so another site cannot post in the staff's name."""
    return hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:32]


__all__ = ["INIT_DATA_MAX_AGE", "LINK_TTL", "SESSION_TTL", "InitDataError", "WebAppUser", "check_init_data",
           "close_session", "create_link", "csrf_token", "data_check_string", "open_session", "redeem_link",
           "secret_key", "session_user", "sign_init_data"]
