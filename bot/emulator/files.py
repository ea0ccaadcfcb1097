"""Files: what users and the bot upload is stored under a file_id, getFile hands out a file_path, and the
file is downloadable from /file/bot<token>/<file_path>, as on Telegram. Photos get true dimensions when
they are PNGs (tiny_png makes real ones), so a bot that reads the image gets what a viewer would."""

from __future__ import annotations

import itertools
import json
import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web

from bot.emulator.protocol import JSON, ApiError, Params, Upload, api, bad_request, json_response


@dataclass(slots=True)
class StoredFile:
    """A file as Telegram keeps it: ids for the Bot API, a path for the download URL, the bytes."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A real (orange) PNG, so downloaded "photos" open in any viewer and have true dimensions."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def image_size(data: bytes) -> tuple[int, int]:
    """A PNG's true size from its header; anything else gets a typical phone photo's size."""
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 1280, 960


class FilesMixin:
    """The file store: by file_id for the Bot API, by file_path for downloads."""

    def _init_files(self, files_dir: Path | None = None) -> None:
        """``files_dir``: keep every file there too, and take back the ones an earlier emulator kept, so the
        file_ids a bot stored (a case's photos) still open after a restart, as Telegram's do; numbering goes on
        after them, so no file_id is handed out twice."""
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._files_dir = files_dir
        if files_dir is None:
            return
        files_dir.mkdir(parents=True, exist_ok=True)
        last = 0
        for meta in sorted(files_dir.glob("*.json")):
            try:
                fields = json.loads(meta.read_text(encoding="utf-8"))
                stored = StoredFile(**fields, data=meta.with_suffix(".bin").read_bytes())
            except (OSError, ValueError, TypeError):  # half-written when an earlier run was killed: skipped
                continue
            self.files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
            last = max(last, int(meta.stem))
        if last:
            self._ids = itertools.count(last + 1)

    def _keep_file(self, number: int, stored: StoredFile) -> None:
        if self._files_dir is None:
            return
        fields = {k: v for k, v in asdict(stored).items() if k != "data"}
        (self._files_dir / f"{number:06d}.bin").write_bytes(stored.data)
        (self._files_dir / f"{number:06d}.json").write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")

    def _store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = next(self._ids)
        suffix = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp"}.get(kind, "")
        path = (
            f"{kind}s/{file_name}" if file_name and kind == "document" else f"{kind}s/file_{number}{suffix}"
        )
        if path in self._files_by_path:
            path = f"{kind}s/file_{number}_{file_name}"
        stored = StoredFile(
            file_id=f"AgAC-emu-{kind}-{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            data=data,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[path] = stored
        self._keep_file(number, stored)
        return stored

    def _input_file(self, params: Params, name: str, kind: str) -> StoredFile:
        """A file parameter: a multipart upload, attach://name, an existing file_id or an HTTP URL."""
        return self._resolve_file(params.text(name), params.uploads.get(name), params.uploads, name, kind)

    def _resolve_file(
        self, value: str | None, upload: Upload | None, uploads: dict[str, Upload], name: str, kind: str
    ) -> StoredFile:
        """`value` as Telegram reads a file: attach://<part> names an upload, else a file_id or an HTTP URL."""
        if value and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            mime = upload.content_type or ("image/jpeg" if kind == "photo" else "application/octet-stream")
            return self._store_file(kind, upload.data, file_name=upload.filename, mime_type=mime)
        if not value:
            raise bad_request(f"there is no {name} in the request")
        if value.startswith(("http://", "https://")):
            return self._store_file(kind, b"", file_name=value.rsplit("/", 1)[-1] or None)
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    @staticmethod
    def _photo_sizes(stored: StoredFile) -> list[JSON]:
        width, height = image_size(stored.data)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        return [{**size, "width": width, "height": height}]

    @staticmethod
    def _document(stored: StoredFile) -> JSON:
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    @staticmethod
    def _voice(stored: StoredFile, duration: int) -> JSON:
        """A Voice object; Telegram reports OGG/Opus voice notes as audio/ogg whatever the upload said."""
        mime = stored.mime_type if (stored.mime_type or "").startswith("audio/") else "audio/ogg"
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime,
            "file_size": len(stored.data),
        }

    @api("getFile")
    async def _get_file(self, params: Params) -> JSON:
        stored = self.files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_file()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if self.token is not None and request.match_info["token"] != self.token:
            return json_response(ApiError(401, "Unauthorized").payload(), 401)
        path = request.match_info["path"]
        stored = self._files_by_path.get(path)
        if stored is None:
            return json_response(ApiError(404, "Not Found").payload(), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
