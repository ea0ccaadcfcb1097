"""The check a labelled trial message must pass, shared by the trial files (one reading of "understood")."""

from __future__ import annotations

from intents import classify
from intents.places import named_place

Want = str | tuple[str, ...] | list[str]


def check_understood(text: str, want: Want, emergency: str | None, place: str | None) -> None:
    """``want``: a category, a tuple of categories any of which is right, or a list of parts in order;
    ``emergency``: the kind raised, or None; ``place``: what the named place must contain, or None (not checked)."""
    r = classify(text)
    if isinstance(want, list):  # a complaint and a question: both are parts, in that order
        assert r.parts == want, r.to_json()
    elif isinstance(want, tuple):  # either category is right; when unsure the bot offers the candidates
        assert r.top is not None and r.top.id in want, r.to_json()
    else:
        assert r.top is not None and r.top.id == want and not r.ambiguous, r.to_json()
    assert (r.emergency.kind if r.emergency else None) == emergency, r.to_json()
    if place is not None:
        found = named_place(text)
        assert found is not None and place in found, found
