"""The sample community file as the tests of clocks, sweeps and figures were written for it: wall-clock limits. The
shipped sample counts 签收 in its office hours (``[working_time]``, so an evening case does not climb overnight);
these tests keep their own hours and dates, independent of that example (tests/unit/test_working_time.py checks
the example itself)."""

from __future__ import annotations

import dataclasses
import re

from services.community.model import SAMPLE_COMMUNITY_FILE, Community, WorkingTime, load_community

_TABLE = re.compile(r"^\[working_time\]\n(?:[a-z_]+ = .*\n)*", re.MULTILINE)  # the table's active lines only


def sample_text() -> str:
    """The sample file's text without its ``[working_time]`` table (its commented examples stay)."""
    text, n = _TABLE.subn("", SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"))
    assert n == 1, "the sample file's [working_time] table moved"
    return text


def wall_clock_sample() -> Community:
    """The sample community with every limit in wall-clock hours (no working time)."""
    return dataclasses.replace(load_community(SAMPLE_COMMUNITY_FILE), working_time=WorkingTime())
