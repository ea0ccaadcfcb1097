"""Display names of categories, units and escalation levels: lookups in the taxonomy and the community file."""

from __future__ import annotations

from handlers.deps import Deps
from services.community.model import Category


def complaint_name(d: Deps, category: str) -> str:
    info = d.engine.model.info.get(category)
    return info.name if info else category


def complaint_choices(d: Deps) -> list[tuple[str, str]]:
    return [(c.value, complaint_name(d, c.value)) for c in Category]


def unit_name(d: Deps, code: str) -> str:
    unit = d.community.unit(code)
    return unit.name if unit else code


def level_name(d: Deps, level: str | None) -> str | None:
    if level is None:
        return None
    found = d.community.escalation_level(level)
    return found.name if found else level


__all__ = ["complaint_choices", "complaint_name", "level_name", "unit_name"]
