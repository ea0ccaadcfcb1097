"""The taxonomy file: its errors point a non-programmer at file:line, and the shipped one keeps its contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents import Engine, TaxonomyError, load_taxonomy
from intents.taxonomy import default_path

COMPLAINTS = (
    "noise", "property", "repair", "utilities", "sanitation", "parking", "dispute", "safety",
    "construction", "welfare", "legal", "suggestion",
)
SERVICES = ("svc.haircut", "svc.points", "svc.shop", "svc.hours", "svc.meal", "svc.class", "svc.clinic")
ACTIONS = ("act.my_tickets", "act.human", "act.sos", "act.greeting", "act.help")

# Line numbers matter below: line 1 is "[settings]".
VALID = """\
[settings]
floor = 0.45
margin = 0.12

[[intent]]
id = "noise"
name = "噪音扰民"
kind = "complaint"
unit = "城管执法中队"
limit_hours = 168
keywords = ["噪音:3", "吵:1.5"]

[[intent]]
id = "repair"
name = "设施报修"
kind = "complaint"
limit_hours = 24
keywords = [
  "报修:3",
  "坏了:2.5",
]
"""


def write(tmp_path: Path, text: str, name: str = "taxonomy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> TaxonomyError:
    path = write(tmp_path, text, "broken.toml")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    return info.value


def test_valid_file_loads(tmp_path: Path) -> None:
    model = load_taxonomy(write(tmp_path, VALID))
    assert model.labels == ["noise", "repair"]
    assert model.info["repair"].limit_hours == 24
    assert model.phrases["吵"] == [(0, 1.5)]


@pytest.mark.parametrize(("old", "new", "line", "problem"), [
    pytest.param('keywords = ["噪音:3", "吵:1.5"]', 'keywords = ["噪音:3" "吵:1.5"]', 11, "TOML syntax",
                 id="toml-syntax"),
    pytest.param('id = "noise"', 'id = "Noise!"', 6, "id must be", id="bad-id"),
    pytest.param('id = "repair"', 'id = "noise"', 14, "defined twice", id="duplicate-id"),
    pytest.param('kind = "complaint"\nunit', 'kind = "complain"\nunit', 8, "kind must be one of",
                 id="bad-kind"),
    pytest.param('"吵:1.5"', '"吵:loud"', 11, "is not a number", id="non-numeric-weight"),
    pytest.param('"坏了:2.5",', '"报修:2",', 20, "listed twice", id="duplicate-keyword"),
    pytest.param("limit_hours = 24", "limit_hours = 0", 17, "limit_hours must be", id="zero-limit"),
    pytest.param("limit_hours = 24", 'limit_hours = "24"', 17, "limit_hours must be", id="text-limit"),
    pytest.param("limit_hours = 24", "limit_hours = 1.5", 17, "limit_hours must be", id="fraction-limit"),
    pytest.param("floor = 0.45", "floor = 1.5", 2, "settings.floor", id="floor-out-of-range"),
    pytest.param("margin = 0.12", "margin = -0.1", 3, "settings.margin", id="margin-out-of-range"),
    pytest.param('"噪音:3"', '"噪音:30"', 11, "between -10 and 10", id="weight-out-of-range"),
    pytest.param('name = "设施报修"\n', "", 13, "missing name", id="missing-name"),
    pytest.param('id = "repair"\n', "", 13, "id must be", id="missing-id-last"),
])
def test_error_names_file_line_and_problem(tmp_path: Path, old: str, new: str, line: int,
                                           problem: str) -> None:
    assert VALID.count(old) == 1
    err = error_for(tmp_path, VALID.replace(old, new))
    assert "broken.toml" in str(err)
    assert err.line == line, str(err)
    assert f"broken.toml:{line}:" in str(err)
    assert problem in str(err)


def test_missing_id_points_at_its_own_intent(tmp_path: Path) -> None:
    err = error_for(tmp_path, VALID.replace('id = "noise"\n', ""))
    assert "id must be" in str(err)
    assert err.line == 5, str(err)


def test_no_intents(tmp_path: Path) -> None:
    err = error_for(tmp_path, "[settings]\nfloor = 0.5\n")
    assert "broken.toml" in str(err) and "no [[intent]]" in str(err)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match=r"missing\.toml.*cannot read"):
        load_taxonomy(tmp_path / "missing.toml")
    bad = tmp_path / "gbk.toml"
    bad.write_bytes(VALID.encode("gbk"))
    with pytest.raises(TaxonomyError, match=r"gbk\.toml.*UTF-8"):
        load_taxonomy(bad)


def test_error_is_a_value_error(tmp_path: Path) -> None:
    """Callers that only know ValueError (the CLIs) still catch it."""
    assert issubclass(TaxonomyError, ValueError)


def test_reloading_an_edited_file_changes_the_result(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    before = Engine.from_file(path).classify("楼下广场舞")
    assert before.top is None
    path.write_text(VALID.replace('"吵:1.5"]', '"吵:1.5", "广场舞:3"]'), encoding="utf-8")
    after = Engine.from_file(path).classify("楼下广场舞")
    assert after.top is not None and after.top.id == "noise" and not after.ambiguous


# -- the shipped taxonomy's contract with the rest of the bot ----------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return load_taxonomy(default_path())


def test_all_contract_ids_exist(shipped) -> None:
    missing = set(COMPLAINTS + SERVICES + ACTIONS) - set(shipped.labels)
    assert not missing


@pytest.mark.parametrize("iid", COMPLAINTS)
def test_complaints_route_somewhere_in_time(shipped, iid: str) -> None:
    info = shipped.info[iid]
    li = shipped.labels.index(iid)
    keywords = [p for p, ws in shipped.phrases.items() if any(i == li for i, _ in ws)]
    assert info.kind == "complaint"
    assert len(keywords) >= 15, keywords
    assert info.unit and info.unit.strip()
    assert isinstance(info.limit_hours, int) and info.limit_hours > 0


@pytest.mark.parametrize("iid", SERVICES + ACTIONS)
def test_services_and_actions_have_no_deadline(shipped, iid: str) -> None:
    info = shipped.info[iid]
    assert info.kind == ("service" if iid.startswith("svc.") else "action")
    assert info.limit_hours is None


def test_safety_is_the_most_urgent_complaint(shipped) -> None:
    hours = {i: shipped.info[i].limit_hours for i in COMPLAINTS}
    assert min(hours, key=hours.__getitem__) == "safety"


def test_settings_are_sane(shipped) -> None:
    assert 0 < shipped.floor < 1 and 0 < shipped.margin < 0.5
