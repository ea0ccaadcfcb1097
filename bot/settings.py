"""Settings from the environment or `.env`, validated once at start-up.

A bad value stops the bot with one line naming the setting, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org/bot"


class SettingsError(SystemExit):
    """Raised with a one-line message; exits the process with status 2 when uncaught."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = 2


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = Field(default=None, description="Telegram bot token; none: local emulator")
    bot_api_url: str = Field(default=DEFAULT_API_URL, description="Bot API base URL, token appended")
    bot_file_url: str | None = Field(default=None, description="file download base; derived if unset")
    database_url: str = Field(default="sqlite+aiosqlite:///var/linli.db")
    staff_chat_id: int | None = None
    community_file: Path | None = None
    taxonomy_file: Path | None = None
    intents_floor: float | None = Field(default=None, ge=0, le=1)
    intents_margin: float | None = Field(default=None, ge=0, le=1)
    callback_secret: str | None = None
    linli_admins: str = Field(default="", description="Telegram user ids of the first admins, comma-separated")
    log_level: str = "INFO"
    # delays and windows a community tunes (defaults: 12345 practice)
    followup_delay_minutes: float = Field(default=60, gt=0, description="办结 → 回访 rating request, minutes")
    rating_window_hours: float = Field(default=72, gt=0, description="回访 unanswered this long → 未评价, hours")
    correction_window_minutes: float = Field(default=30, ge=0, description="after filing, how long a place typed "
                                             "as a correction (不对 是4号楼) moves the case just filed, minutes")
    answer_window_minutes: float = Field(default=10, ge=0, description="after a resident answers 需补充, how long "
                                         "more words the bot cannot read otherwise go to that case too, minutes")
    sweep_interval_seconds: float = Field(default=60, ge=1, description="how often clocks are swept, seconds")
    flood_messages: int = Field(default=8, ge=0, description="a user's private messages per flood window; past "
                                "it they are dropped and told once to slow down (0: off)")
    flood_window_seconds: float = Field(default=10, gt=0, description="the flood window, seconds")
    flood_drafts: int = Field(default=3, ge=0, description="complaints a resident may confirm per flood window, "
                              "counted in the database (0: no cap)")
    web_host: str = Field(default="127.0.0.1", description="address the web side listens on")
    web_port: int | None = Field(default=8080, ge=0, le=65535, description="its port; 0 picks a free one; off: none")
    base_url: str | None = Field(default=None, description="the public address of the web side (https://…)")
    # scale-out (docs/deploy.md): Telegram's webhook instead of polling, worker processes, their share of the database
    webhook: bool = Field(default=False, description="take updates at BASE_URL/telegram/webhook instead of polling")
    webhook_secret: str | None = Field(default=None, description="X-Telegram-Bot-Api-Secret-Token (A-Z a-z 0-9 _ -)")
    workers: int = Field(default=1, ge=1, le=64, description="processes behind WEB_PORT (more than one: PostgreSQL)")
    inbox_slots: int = Field(default=32, ge=1, le=1024, description="updates one worker handles at once")
    group_reserve: int = Field(default=5, ge=0, le=19, description="the last slots of a group's twenty a minute "
                               "that cards and background edits spread out until the minute frees the next one, "
                               "combining what comes meanwhile (0: a burst uses the whole minute, the rest waits)")
    rate_limit: bool = Field(default=True, description="the bot paces its own sends (off: benchmarks against the "
                             "emulator with its limits off, never against Telegram)")
    database_pool: int | None = Field(default=None, ge=1, le=100,
                                      description="PostgreSQL connections per process (and as many on overflow)")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        head, sep, tail = v.partition(":")
        if not sep or not head.isdigit() or len(tail) < 4:
            raise ValueError("must look like 123456:ABC… (from @BotFather)")
        return v

    @field_validator("bot_api_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @field_validator("web_port", mode="before")
    @classmethod
    def _web_off(cls, v: object) -> object:
        return None if isinstance(v, str) and v.strip().lower() in ("off", "none", "") else v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip().rstrip("/")
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if len(v) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in v):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return v

    @property
    def web_url(self) -> str:
        """Where people reach the web side: BASE_URL, else the local address it listens on."""
        return self.base_url or f"http://{self.web_host}:{self.web_port or 8080}"

    @field_validator("community_file", "taxonomy_file")
    @classmethod
    def _exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"file not found: {v}")
        return v

    @property
    def admins(self) -> frozenset[int]:
        from services.people.roles import admins_from

        return admins_from(self.linli_admins)

    @property
    def file_url(self) -> str:
        if self.bot_file_url:
            return self.bot_file_url
        return self.bot_api_url.replace("/bot", "/file/bot", 1) if "/bot" in self.bot_api_url else (
            self.bot_api_url.rstrip("/") + "/file/bot"
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env plus overrides; invalid ones raise SettingsError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err.get("loc") else "?"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        raise SettingsError(f"配置错误 {name}: {msg}") from None
