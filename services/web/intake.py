"""The 服务码 form's rules (no HTTP): what a filed form must hold, the photo made safe, the category suggested,
and the case filed in the lifecycle every other channel uses (``services.cases.intake.open_case``).

A resident on the web has no Telegram account: they are an offline resident (``tg_user_id`` NULL; the same phone
number is the same person), and what they get back is a tracking token for the case's page.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel.ext.asyncio.session import AsyncSession

from intents import Engine
from services.cases import emergencies
from services.cases.duplicates import building_of
from services.cases.intake import Intake, Opened, open_case
from services.cases.lifecycle import write
from services.community.model import Category, Community
from services.people.residents import offline_resident
from services.web import tokens
from storage.models import Channel, Ticket

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # what a phone's camera makes, with room; more is refused before it is read
MAX_PIXELS = 50_000_000  # decoded size: a small file claiming a huge image (a "decompression bomb") is refused
MAX_SIDE = 2048  # the stored photo's longest side
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO", "BMP"})
TEXT_MIN, TEXT_MAX = 4, 1000
LOCATION_MAX = 120
NAME_MAX = 32
WEB_NAME = "服务码居民"  # the name of a web resident who gave none
_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


class FormError(StrEnum):
    TEXT_SHORT = "text_short"
    TEXT_LONG = "text_long"
    TEXT_NO_WORDS = "text_no_words"  # only emoji, punctuation or symbols: nothing the desk can read
    LOCATION_LONG = "location_long"
    PHONE_BAD = "phone_bad"
    NAME_LONG = "name_long"
    CATEGORY_BAD = "category_bad"


class PhotoError(StrEnum):
    TOO_BIG = "too_big"
    NOT_IMAGE = "not_image"


@dataclass(frozen=True)
class WebForm:
    text: str
    location: str = ""
    phone: str = ""
    name: str = ""
    category: str = ""  # chosen by the resident; "" lets the engine decide

    @classmethod
    def of(cls, **raw: str | None) -> WebForm:
        """Trimmed, newlines kept in the text only. The words stay as typed (full-width ，。？ are Chinese
        punctuation, not to be turned into ASCII); only the phone number is NFKC-normalised (full-width digits)
        and written the one way (138 1234 5678, 138-1234-5678, +86 138… are the same mobile number)."""
        def clean(v: str | None, *, multiline: bool = False) -> str:
            v = (v or "").strip()
            return v if multiline else " ".join(v.split())
        return cls(text=clean(raw.get("text"), multiline=True), location=clean(raw.get("location")),
                   phone=clean_phone(raw.get("phone") or ""), name=clean(raw.get("name")),
                   category=clean(raw.get("category")))

    def errors(self) -> list[FormError]:
        found = []
        if len(self.text) < TEXT_MIN:
            found.append(FormError.TEXT_SHORT)
        elif not has_words(self.text):
            found.append(FormError.TEXT_NO_WORDS)
        if len(self.text) > TEXT_MAX:
            found.append(FormError.TEXT_LONG)
        if len(self.location) > LOCATION_MAX:
            found.append(FormError.LOCATION_LONG)
        if self.phone and not _PHONE.match(self.phone):
            found.append(FormError.PHONE_BAD)
        if len(self.name) > NAME_MAX:
            found.append(FormError.NAME_LONG)
        if self.category and self.category not in {c.value for c in Category}:
            found.append(FormError.CATEGORY_BAD)
        return found


def has_words(text: str) -> bool:
    """Some letter or digit (Chinese characters are letters): not only emoji, punctuation or symbols."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def clean_phone(raw: str) -> str:
    """The number without spaces; a mobile number also without dashes and without +86 in front."""
    phone = "".join(unicodedata.normalize("NFKC", raw).split())
    mobile = _MOBILE.match(phone.replace("-", ""))
    return mobile[1] if mobile else phone


def clean_photo(data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES) -> bytes | PhotoError:
    """The photo re-encoded as a JPEG of at most ``MAX_SIDE`` pixels, turned upright, with no metadata at all
    (EXIF with its GPS position, ICC, comments: only pixels are copied); or why it cannot be taken."""
    if len(data) > max_bytes:
        return PhotoError.TOO_BIG
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS or probe.width * probe.height > MAX_PIXELS:
                return PhotoError.NOT_IMAGE
            probe.verify()
        with Image.open(io.BytesIO(data)) as im:
            upright = ImageOps.exif_transpose(im)
            pixels = upright.convert("RGB")
            pixels.thumbnail((MAX_SIDE, MAX_SIDE))
            clean = Image.new("RGB", pixels.size)
            clean.paste(pixels)
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return PhotoError.NOT_IMAGE


@dataclass(frozen=True)
class Suggestion:
    category: str | None  # a Category value, or None when the words name no complaint yet
    emergency: bool = False  # words of an emergency: the page says to call 110/120/119 at once


def suggest(engine: Engine, text: str) -> Suggestion:
    """The complaint category the intents engine reads in the words (the best complaint among its matches)."""
    text = text.strip()
    if not text:
        return Suggestion(None)
    result = engine.classify(text)
    complaints = {c.value for c in Category}
    best = next((m.id for m in result.intents if m.id in complaints
                 and engine.model.info[m.id].kind == "complaint"), None)
    return Suggestion(best, result.emergency is not None)


def grid_of_place(community: Community, location: str, default: str | None) -> str | None:
    """The grid of the building the place names (a resident may file about another grid's building)."""
    building = building_of(location)
    info = community.grid_for_building(building) if building else None
    return info.code if info else default


@dataclass(frozen=True)
class Filed:
    opened: Opened
    token: str
    category: str

    @property
    def ticket(self) -> Ticket:
        return self.opened.ticket


async def file_case(s: AsyncSession, form: WebForm, *, grid_code: str | None, photos: list[str], engine: Engine,
                    community: Community, staff_chat_id: int | None, now: datetime,
                    channel: Channel = Channel.WEB) -> Filed:
    """Open (or join) the case the form describes, in the caller's transaction, and give it a tracking token."""
    grid = grid_of_place(community, form.location, grid_code)
    category = form.category or suggest(engine, form.text).category or Category.OTHER.value
    resident = await offline_resident(s, name=form.name or WEB_NAME, phone=form.phone or None,
                                      building=building_of(form.location), grid_code=grid, now=now)
    assert resident.id is not None
    said = engine.classify(form.text).emergency
    if said is not None:  # 着火了 on the form: alerted at once as in chat, never a case for next week
        case = await emergencies.open_emergency(
            s, resident=resident, kind=said.kind, text=form.text, location=form.location or None, grid_code=grid,
            community=community, staff_chat_id=staff_chat_id, reply_chat=None, now=now)
        t = case.ticket
        written = await write(s, t, {"channel": channel, "contact_name": form.name or None,
                                     "contact_phone": form.phone or None, "photos": list(photos)})
        assert written, "a ticket opened in this transaction cannot have changed"
        opened = Opened(t, linked=False, own=False, hotspot=None)
    else:
        opened = await open_case(s, resident=resident, intake=Intake(
            category=category, text=form.text, location=form.location or None, grid_code=grid, photos=photos,
            channel=channel, contact_name=form.name or None, contact_phone=form.phone or None,
        ), community=community, staff_chat_id=staff_chat_id, now=now)
    assert opened.ticket.id is not None
    token = await tokens.issue(s, ticket_id=opened.ticket.id, resident_id=resident.id, now=now)
    return Filed(opened, token, category)


__all__ = [
    "MAX_PHOTO_BYTES",
    "Filed",
    "FormError",
    "PhotoError",
    "Suggestion",
    "WebForm",
    "clean_phone",
    "clean_photo",
    "file_case",
    "grid_of_place",
    "has_words",
    "suggest",
]
