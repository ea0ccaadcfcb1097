"""The learned fallback: naive Bayes over character 2-3-grams, trained from keywords and example sentences.

It answers only when keyword evidence is weak (a message in words no keyword lists), and shows the
n-grams that decided, as keywords are shown. Training is counting, so it is built when an engine is
loaded (a few milliseconds for the shipped taxonomy) and never goes stale against the file.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter

_CJK = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z]{3,}")
ALPHA = 0.2  # additive smoothing: small, because one keyword is a whole document
WEIGHT = 2.5  # a posterior of 0.8 adds 2.0 to a label's score: just past the taxonomy's floor
MIN_POSTERIOR = 0.45
CATCH_ALL = "other"  # the label of a message no category names
MIN_GRAMS = 3
MIN_DF = 2
MIN_COVERAGE = 0.2
EVIDENCE_GRAMS = 6.0


def grams(text: str) -> list[str]:
    """Character 2-3-grams inside Chinese runs, and whole Latin words.

    No single characters: alone they let chit-chat score (天气 is not 燃气 because both hold 气).
    """
    out: list[str] = []
    for run in _CJK.findall(text):
        n = len(run)
        out.extend(run[i : i + 2] for i in range(n - 1))
        out.extend(run[i : i + 3] for i in range(n - 2))
    out.extend(_LATIN.findall(text))
    return out


class NgramModel:
    """Per n-gram, one row of log-probabilities (one per label), so a message is a few column sums."""

    def __init__(self, labels: list[str], docs: Iterable[tuple[str, int, float]]) -> None:
        """`docs`: (canonical text, label index, weight)."""
        self.labels = labels
        counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        df: dict[str, int] = defaultdict(int)
        totals = [0.0] * len(labels)
        present = [False] * len(labels)
        for text, li, w in docs:
            for g in grams(text):
                counts[g][li] += w
                totals[li] += w
            for g in set(grams(text)):
                df[g] += 1
            present[li] = True
        # an n-gram from one sentence only is that sentence's accident (晚上也 in 助餐点晚上也供应吗)
        counts = {g: by for g, by in counts.items() if df[g] >= MIN_DF or len(g) < 3}
        self.present = [i for i, p in enumerate(present) if p]
        v = len(counts) or 1
        self.rows: dict[str, array] = {}
        for g, by in counts.items():
            self.rows[g] = array("d", (
                math.log((by.get(li, 0.0) + ALPHA) / (totals[li] + ALPHA * v)) if present[li] else -1e9
                for li in range(len(labels))
            ))
        self._columns = [itemgetter(li) for li in range(len(labels))]

    def posteriors(self, text: str) -> tuple[list[float], list[str]]:
        """P(label | text) over the labels with training data, and the known n-grams seen."""
        every = grams(text)
        found = [g for g in every if g in self.rows]
        distinct = len(set(found))
        # chit-chat shares a gram or two with the training text by chance; a real message shares several
        if distinct < MIN_GRAMS or distinct < MIN_COVERAGE * len(set(every)):
            return [], found
        rows = [self.rows[g] for g in found]
        # naive Bayes grows surer with every n-gram, related or not; count a long text as EVIDENCE_GRAMS
        scale = min(1.0, EVIDENCE_GRAMS / len(found))
        logp = [sum(map(self._columns[li], rows)) * scale if li in self.present else -math.inf
                for li in range(len(self.labels))]
        top = max(logp)
        exps = [math.exp(x - top) if x > -math.inf else 0.0 for x in logp]
        z = sum(exps)
        return [e / z for e in exps], found

    def vote(self, text: str, scores: list[float], evidence: dict[int, list[tuple[float, str]]],
             skip: Iterable[tuple[int, int]] = ()) -> None:
        """Add the model's opinion to `scores` when it is sure enough; evidence for the winner only."""
        for a, b in sorted(skip, reverse=True):  # words said to be fixed / not the problem do not count
            text = text[:a] + "，" + text[b:]
        post, found = self.posteriors(text)
        if not post:
            return
        best = max(range(len(post)), key=post.__getitem__)
        if post[best] < MIN_POSTERIOR or self.labels[best] == CATCH_ALL:
            return  # "other" learnt from words like 情况, 麻烦 says nothing the vague message did not: leave it vague
        for li, p in enumerate(post):
            if p >= 0.1:
                scores[li] += WEIGHT * p
        second = max((i for i in range(len(post)) if i != best), key=post.__getitem__, default=best)
        ranked = sorted(set(found), key=lambda g: -(self.rows[g][best] - self.rows[g][second]))
        evidence[best].extend((WEIGHT * post[best] * 0.5 ** k, f"«{g}»") for k, g in enumerate(ranked[:4]))

    def explain(self, text: str, label: int, k: int = 4) -> list[str]:
        post, found = self.posteriors(text)
        if not post:
            return []
        return sorted(set(found), key=lambda g: -self.rows[g][label])[:k]
