"""Telegram's text formatting: HTML, MarkdownV2 and legacy Markdown parse modes turned into plain text plus
entities, with Telegram's error texts, so a bot's badly escaped message fails here as it would there."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from bot.emulator.protocol import JSON, ApiError, bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _Builder:
    """Accumulates plain text plus entities while a markup parser walks the source."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[JSON] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def open(self, kind: str, **extra: Any) -> JSON:
        return {"type": kind, "offset": self.length, **extra}

    def close(self, entity: JSON) -> None:
        if (length := self.length - entity["offset"]) > 0:
            entity["length"] = length
            self.entities.append(entity)

    def result(self) -> tuple[str, list[JSON]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}  # fmt: skip


class _HtmlEntities(HTMLParser):
    """Telegram's HTML parse mode: a fixed tag set, strictly nested, everything else an error."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out = _Builder()
        self.stack: list[tuple[str, JSON | None]] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        return len(self.source[: self.line_starts[line - 1] + col].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = _HTML_TAGS.get(tag)
        if kind is None or (tag == "span" and values.get("class") != "tg-spoiler"):
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            pre = self.stack[-1][1]
            language = (values.get("class") or "").removeprefix("language-")
            if pre is not None and language:
                pre["language"] = language
            self.stack.append((tag, None))
            return
        entity = self.out.open(kind)
        if tag == "a":
            entity["url"] = values.get("href") or ""
        elif tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = values.get("emoji-id") or ""
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._byte_offset()}")
        if self.stack[-1][0] != tag:
            expected = self.stack[-1][0]
            raise _cant_parse(
                f'Unmatched end tag at byte offset {self._byte_offset()}, expected "</{expected}>", '
                f'found "</{tag}>"'
            )
        _, entity = self.stack.pop()
        if entity is not None:
            self.out.close(entity)

    def handle_data(self, data: str) -> None:
        self.out.add(data)

    def handle_comment(self, data: str) -> None:
        raise _cant_parse(f"Unsupported comment at byte offset {self._byte_offset()}")

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return self.out.result()


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD1_MARKERS = (("*", "bold"), ("_", "italic"))
_MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(((?:\\.|[^)\\])*)\)")
_MD_UNESCAPE = re.compile(r"\\(.)")


def _byte_at(text: str, index: int) -> int:
    return len(text[:index].encode())


def _find_closing(text: str, token: str, start: int, v2: bool) -> int:
    """Index of the next `token` at or after `start`, skipping backslash-escaped characters in V2."""
    i = start
    while i < len(text):
        if v2 and text[i] == "\\":
            i += 2
        elif text.startswith(token, i):
            return i
        else:
            i += 1
    return -1


class _MarkdownEntities:
    """Telegram's MarkdownV2 (strict: reserved characters must be escaped) and legacy Markdown."""

    def __init__(self, source: str, v2: bool) -> None:
        self.src = source
        self.v2 = v2
        self.out = _Builder()
        self.opened: dict[str, tuple[JSON, int]] = {}

    def _unescape(self, text: str) -> str:
        return _MD_UNESCAPE.sub(r"\1", text) if self.v2 else text

    def _code(self, i: int, fence: str) -> int:
        end = _find_closing(self.src, fence, i + len(fence), self.v2)
        if end < 0:
            raise _cant_parse(f"Can't find end of the entity starting at byte offset {_byte_at(self.src, i)}")
        body, extra = self.src[i + len(fence) : end], {}
        if fence == "```":
            first, newline, rest = body.partition("\n")
            if newline and re.fullmatch(r"[\w+#.-]+", first):
                body, extra = rest, {"language": first}
        entity = self.out.open("pre" if fence == "```" else "code", **extra)
        self.out.add(self._unescape(body))
        self.out.close(entity)
        return end + len(fence)

    def _link(self, i: int) -> int | None:
        match = _MD_LINK.match(self.src, i)
        if match is None:
            return None
        entity = self.out.open("text_link", url=self._unescape(match.group(2)))
        self.out.add(self._unescape(match.group(1)))
        self.out.close(entity)
        return match.end()

    def _toggle(self, kind: str, i: int) -> None:
        if kind in self.opened:
            self.out.close(self.opened.pop(kind)[0])
        else:
            self.opened[kind] = (self.out.open(kind), _byte_at(self.src, i))

    def _step(self, i: int) -> int:
        src, char = self.src, self.src[i]
        if char == "\\" and i + 1 < len(src) and (self.v2 or src[i + 1] in "_*`["):
            self.out.add(src[i + 1])
            return i + 2
        if src.startswith("```", i) or char == "`":
            return self._code(i, "```" if src.startswith("```", i) else "`")
        if char == "[" and (end := self._link(i)) is not None:
            return end
        for token, kind in _MD2_MARKERS if self.v2 else _MD1_MARKERS:
            if src.startswith(token, i):
                self._toggle(kind, i)
                return i + len(token)
        if self.v2 and char == ">" and (i == 0 or src[i - 1] == "\n"):
            self._toggle("blockquote", i)
            return i + 1
        if char == "\n" and "blockquote" in self.opened:
            self._toggle("blockquote", i)
        if self.v2 and char in _MD2_RESERVED:
            raise _cant_parse(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        self.out.add(char)
        return i + 1

    def parse(self) -> tuple[str, list[JSON]]:
        i = 0
        while i < len(self.src):
            i = self._step(i)
        if "blockquote" in self.opened:
            self._toggle("blockquote", i)
        if self.opened:
            start = min(offset for _, offset in self.opened.values())
            raise _cant_parse(f"Can't find end of the entity starting at byte offset {start}")
        return self.out.result()


def parse_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None
) -> tuple[str, list[JSON]]:
    """Plain text and entities as Telegram would store them for `text` sent with `parse_mode`."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _HtmlEntities(text).parse()
    if mode in ("markdownv2", "markdown"):
        return _MarkdownEntities(text, v2=mode == "markdownv2").parse()
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return text, list(entities or [])
