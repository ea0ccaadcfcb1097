"""Callback data: short, versioned and signed, because any client can send any bytes.

Format `1|action|arg|sig` within Telegram's 64-byte limit; `sig` is a truncated HMAC over the rest
with the bot's secret. Unsigned, re-signed or malformed data unpacks to None and the handler answers
politely that the button is stale. Ownership is still checked server-side on every press.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

VERSION = "1"
SIG_LEN = 8
MAX_BYTES = 64


@dataclass(frozen=True)
class Callback:
    action: str
    arg: str = ""


def _sig(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIG_LEN]


def pack(secret: bytes, action: str, arg: str = "") -> str:
    if "|" in action or "|" in arg:
        raise ValueError("callback parts may not contain '|'")
    body = f"{VERSION}|{action}|{arg}"
    data = f"{body}|{_sig(secret, body)}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def unpack(secret: bytes, data: str | None) -> Callback | None:
    if not isinstance(data, str) or not data or len(data.encode()) > MAX_BYTES:  # PTB passes on any JSON type
        return None
    parts = data.split("|")
    if len(parts) != 4 or parts[0] != VERSION:
        return None
    body = "|".join(parts[:3])
    if not hmac.compare_digest(parts[3], _sig(secret, body)):
        return None
    return Callback(parts[1], parts[2])


def secret_from(configured: str | None, token: str | None) -> bytes:
    """A stable key: the configured secret, else derived from the token (stable across restarts)."""
    seed = configured or f"linli:{token or 'local-emulator'}"
    return hashlib.sha256(seed.encode()).digest()
