"""The emulator keeps files in ``files_dir`` across restarts (the demo's ``var/``), as Telegram keeps its own: a file_id
a bot stored opens the same bytes after the emulator starts again, and a new file never gets an old file's id."""

from __future__ import annotations

from pathlib import Path

from bot.emulator import BotApiEmulator
from bot.emulator.files import tiny_png


async def test_files_outlive_the_emulator_and_their_ids_are_never_reused(tmp_path: Path) -> None:
    kept = tmp_path / "emulator-files"
    first = BotApiEmulator(files_dir=kept)
    first.user(1001, "王阿姨")
    sent = await first.send_photo(1001, "楼道灯坏了", data=tiny_png(5, 3))
    old_id = sent["photo"][-1]["file_id"]
    old = first.files[old_id]
    again = BotApiEmulator(files_dir=kept)  # `make run` again
    assert again.files[old_id].data == old.data == tiny_png(5, 3)
    again.user(1001, "王阿姨")
    newer = await again.send_photo(1001, "又坏了", data=tiny_png(2, 2))
    new_id = newer["photo"][-1]["file_id"]
    assert new_id != old_id and again.files[old_id].data == tiny_png(5, 3)
    assert BotApiEmulator().files == {}  # without a folder: in memory, as tests use it
