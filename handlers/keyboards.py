"""Keyboards: the resident's main menu and the inline buttons, with signed callback data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from handlers import texts
from handlers.callbacks import pack


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t) for t in row] for row in texts.MENU_ROWS],
        resize_keyboard=True,
        input_field_placeholder=texts.MENU_PLACEHOLDER,
    )


def button(secret: bytes, label: str, action: str, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=pack(secret, action, arg))


def rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def inline(*button_rows: Iterable[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(r) for r in button_rows if r])


def confirm_draft(secret: bytes, draft: str) -> InlineKeyboardMarkup:
    """Buttons of one draft: `draft` (its stamp) makes an old message's buttons stale, not redirected."""
    return inline(
        [button(secret, texts.BTN_CONFIRM, "ok", draft)],
        [button(secret, texts.BTN_RECATEGORIZE, "rc", draft), button(secret, texts.BTN_CANCEL, "x", draft)],
    )


def confirm_two(secret: bytes, draft: str) -> InlineKeyboardMarkup:
    """A draft holding two matters: submitted apart (two cases), as one, or not at all."""
    return inline(
        [button(secret, texts.BTN_SUBMIT_TWO, "two", draft)],
        [button(secret, texts.BTN_SUBMIT_ONE, "ok", draft), button(secret, texts.BTN_CANCEL, "x", draft)],
    )


def categories(secret: bytes, choices: Sequence[tuple[str, str]], draft: str, *, more: bool) -> InlineKeyboardMarkup:
    buttons = [button(secret, name, "cat", f"{cid}.{draft}") for cid, name in choices]
    extra = [button(secret, texts.BTN_OTHER_CATEGORY, "rc", draft)] if more else []
    return inline(*rows(buttons, 3), extra, [button(secret, texts.BTN_CANCEL, "x", draft)])


def human(secret: bytes, message_id: int) -> InlineKeyboardMarkup:
    return inline([button(secret, texts.BTN_HUMAN, "fw", str(message_id))])


def services(secret: bytes) -> InlineKeyboardMarkup:
    buttons = [button(secret, label, "svc", sid) for sid, label in texts.SERVICE_BUTTONS.items()]
    return inline(*rows(buttons, 2))
