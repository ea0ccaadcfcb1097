"""Scoring: one message in, ranked intents with confidence and evidence out.

Order of work: canonical text (simplified characters, address numerals); the emergency detector; the
keyword passes (exact, homophones, pinyin for Latin input); what the message says about its keywords
(fixed, "not X but Y", an earlier report asked about: `discourse`), which sets those keywords aside;
then, only when nothing convincing was found, the rapidfuzz pass and the n-gram fallback. The result
lists the parts to act on in priority order: emergency, progress question, complaints, questions.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter, mul
from pathlib import Path

from rapidfuzz import fuzz, process

from intents import latin
from intents import text as tx
from intents.discourse import Discourse, analyse, clauses, takes_back
from intents.emergency import Emergency, known_party, scan, swindle_reported
from intents.model import Model
from intents.ngram import NgramModel

HOMOPHONE_FACTOR = 0.8  # same toneless syllables: 躁音 for 噪音
NEAR_HOMOPHONE_FACTOR = 0.6  # same after fuzzy pinyin (z/zh, n/l, in/ing): weaker evidence
FUZZY_FACTOR = 0.7
FUZZY_CUTOFF = 75.0
PINYIN_FACTOR = 0.8  # a keyword typed in pinyin: as sure as a homophone
SATURATION = 2.5  # taxonomy: a weight-3 keyword alone gives ~0.7 confidence
NAMES_THE_THING = 2.0  # another complaint category's keywords this strong name the thing a judgement is about
SWINDLE_WEIGHT = 3.0  # a swindle reported past its alert (上个月被人骗了): as sure as a strong keyword for `safety`
HAZARD_WEIGHT = 3.0  # a fire feared (楼道里停满了电动车 着火了可咋办): a hazard for `safety`, as sure as 消防隐患
ADDRESSEE_FACTOR = 0.5  # "@物业": whom the message is to, a weaker sign of what it is about
PARTY_WEIGHT = 3.0  # cheated by a landlord or a boss (被房东骗了两千): as sure as 押金不退 for `dispute`

# Fuzzy pinyin (as Chinese input methods do): flat/retroflex, n/l, front/back nasals.
_FUZZY_PY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ing", "in"), ("eng", "en"), ("ang", "an")]
_NEGATORS = ("没有", "没", "不是", "并非", "并不", "不再", "无", "不")
# "it's gone / fixed" right after the keyword; not 停了, which is a complaint (暖气停了)
_DONE_AFTER = re.compile(
    r"^(?:已经|也|都|终于|现在)?(?:没有?了|解决了|好了|修好了|消失了|不见了|处理好了|清理了|清走了|处理了)"
)
_HAN = re.compile(r"[\u3400-\u9fff]")
_QUESTION_BEFORE = ("是不是", "是否", "有没有", "会不会")
_CLAUSE_END = re.compile(r"[，。！？,.!?;；\s]")
_SPECIAL = ("act.sos", "act.my_tickets", "act.greeting", "act.human", "act.withdraw")
_THANKS = ("谢谢", "感谢", "多谢", "辛苦了", "已经解决", "解决了", "处理好了", "修好了")
_LATIN_RUN = re.compile(r"[a-z]{2,}(?: [a-z]+)*")  # two syllables need two letters at least: not 'a' in A市


_fuzzy: dict[str, str] = {}


def _fuzzy_syllable(s: str) -> str:
    f = _fuzzy.get(s)
    if f is not None:
        return f
    f = s
    for a, b in _FUZZY_PY:
        if f.startswith(a) and a in ("zh", "ch", "sh"):
            f = b + f[2:]
        elif f.endswith(a) and a in ("ing", "eng", "ang"):
            f = f[: -len(a)] + b
    f = "n" + f[1:] if f.startswith("l") else f
    if len(_fuzzy) < 50_000:
        _fuzzy[s] = f
    return f


_Votes = tuple[list[str], list[float]]  # learned features present and their tf-idf values


def _whole_word(text: str, phrase: str, i: int) -> bool:
    """Latin keywords match whole words only ("hi" is not in "this"); Chinese has no spaces to check."""
    if not phrase.isascii():
        return True
    j = i + len(phrase)
    before = text[i - 1] if i else " "
    after = text[j] if j < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


class Match:
    """One intent with its confidence and the words that decided it.

    `evidence` is worked out when first read: a learned model's evidence is a pass over every feature,
    paid only for the labels someone looks at.
    """

    __slots__ = ("_evidence", "id", "name", "score")

    def __init__(self, id: str, name: str, score: float,
                 evidence: list[str] | Callable[[], list[str]] | None = None) -> None:
        self.id, self.name, self.score = id, name, score
        self._evidence = [] if evidence is None else evidence

    @property
    def evidence(self) -> list[str]:
        if callable(self._evidence):
            self._evidence = self._evidence()
        return self._evidence

    @evidence.setter
    def evidence(self, value: list[str]) -> None:
        self._evidence = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Match) and (self.id, self.name, self.score, self.evidence) == (
            other.id, other.name, other.score, other.evidence)

    def __repr__(self) -> str:
        return f"Match(id={self.id!r}, name={self.name!r}, score={self.score!r}, evidence={self.evidence!r})"

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "score": round(self.score, 4), "evidence": self.evidence}


@dataclass
class Result:
    """Ranked intents; `parts` are the ones the message asks to act on, in the order to act on them.

    Priority: an emergency (act.sos), a question about an earlier report (act.my_tickets), complaints,
    then questions. `intents` starts with the parts in that order, so `top` is the first of them.
    """

    intents: list[Match]
    ambiguous: bool
    negated: list[str] = field(default_factory=list)  # complaint words said to be fixed or not the problem
    emergency: Emergency | None = None
    resolved_topic: str | None = None  # the complaint category the message says is fixed
    progress_topic: str | None = None  # the category of an earlier report asked about, when named
    parts: list[str] = field(default_factory=list)

    @property
    def top(self) -> Match | None:
        return self.intents[0] if self.intents else None

    @property
    def confident(self) -> bool:
        return bool(self.intents) and not self.ambiguous

    def to_json(self) -> dict:
        return {
            "intents": [m.to_json() for m in self.intents], "ambiguous": self.ambiguous,
            "emergency": self.emergency.to_json() if self.emergency else None,
            "resolved_topic": self.resolved_topic, "progress_topic": self.progress_topic, "parts": self.parts,
        }


class Engine:
    """Holds one model and its indexes; `classify` is pure and safe to call from any thread."""

    def __init__(self, model: Model, *, floor: float | None = None, margin: float | None = None) -> None:
        self.model = model
        self.floor = model.floor if floor is None else floor
        self.margin = model.margin if margin is None else margin
        self._singles: set[str] = set()
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        # keyed by the first two fuzzy syllables: few candidates per position, so the pass stays cheap
        self._by_syllable: dict[tuple[str, str], list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = (
            defaultdict(list))
        for phrase in sorted(model.phrases, key=len, reverse=True):
            if len(phrase) == 1:
                self._singles.add(phrase)
            else:
                self._by_prefix[phrase[:2]].append(phrase)
            if len(phrase) >= 2 and tx.is_chinese(phrase):
                syl = tuple(tx.pinyin(phrase))
                fuzzy = tuple(_fuzzy_syllable(s) for s in syl)
                self._by_syllable[fuzzy[:2]].append((phrase, syl, fuzzy))
        # fuzzy matching is for Chinese typed loosely; on English words it finds chance resemblances
        self._fuzzy_choices = [p for p in model.phrases if len(p) >= 4 and not p.isascii()]
        self._fuzzy_index: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(self._fuzzy_choices):
            for ch in set(p):
                self._fuzzy_index[ch].append(i)
        self._columns = [itemgetter(li + 1) for li in range(len(model.labels))]  # row[0] is the idf
        # labels with a behaviour of their own (emergencies, progress, thanks, a person): taxonomies have them
        self._special = {k: model.labels.index(k) for k in _SPECIAL if k in model.labels}
        # complaint categories whose keywords name a thing (not `other`'s 反映, 问题): judgements defer to them
        self._named_kinds = {i for i, lab in enumerate(model.labels)
                             if model.info[lab].kind == "complaint" and lab != "other"}
        # where a swindle goes once it is no alert: the police post's category, when the model has it
        self._swindle = model.labels.index("safety") if "safety" in model.labels and self._special else None
        # the hours question, and the services with hours of their own (积分超市几点开门 asks the shop's hours)
        self._hours = model.labels.index("svc.hours") if "svc.hours" in model.labels else None
        self._timed = {i for i, lab in enumerate(model.labels)
                       if lab.startswith("svc.") and lab not in ("svc.hours", "svc.phone", "svc.points")}
        self.ngrams = _ngram_model(model) if model.phrases else None
        # a model trained where the fast tokenizer disagreed with jieba on some row keeps jieba
        self._tokenizer_name = "jieba" if model.tokenizer == "jieba" else None

    def _tokenizer(self) -> tx.Jieba | tx.RJieba:
        return tx.tokenizer(self._tokenizer_name)

    @classmethod
    def from_file(cls, path: str | Path | None = None, **kw) -> Engine:
        """A taxonomy (.toml, default the shipped one) or a trained model (.json)."""
        if path is not None and str(path).endswith(".json"):
            return cls(Model.load(path), **kw)
        from intents.taxonomy import load_taxonomy

        return cls(load_taxonomy(path), **kw)

    # -- evidence -------------------------------------------------------------------------------

    def _phrase_hits(self, text: str) -> dict[str, tuple[float, int, int]]:
        """phrase -> (strength, start, end): exact first, then homophones at uncovered places."""
        hits: dict[str, tuple[float, int, int]] = {}
        singles, by_prefix = self._singles, self._by_prefix
        for i, ch in enumerate(text):
            if ch in singles and ch not in hits:
                hits[ch] = (1.0, i, i + 1)
            for phrase in by_prefix.get(text[i : i + 2], ()):
                if phrase not in hits and text.startswith(phrase, i) and _whole_word(text, phrase, i):
                    hits[phrase] = (1.0, i, i + len(phrase))
        if self._by_syllable:
            self._homophone_hits(text, hits)
        return hits

    def _homophone_hits(self, text: str, hits: dict[str, tuple[float, int, int]]) -> None:
        """Keywords typed with the wrong characters of the same sound (躁音 for 噪音, 报袖 for 报修).

        A candidate span must share at least half its characters with the keyword, not be cut out of a
        dictionary word that straddles its edges, and not be a real word itself: 可以 is not a typo of
        可疑, and 岗亭睡觉 holds no 停水.
        """
        syl = tx.pinyin(text)
        fuzzy = [_fuzzy_syllable(s) for s in syl]
        phrases = self.model.phrases
        found: list[tuple[str, float, int, int]] = []
        by_syllable = self._by_syllable
        for i in range(len(fuzzy) - 1):
            for phrase, psyl, pfuzzy in by_syllable.get((fuzzy[i], fuzzy[i + 1]), ()):
                n = len(psyl)
                if tuple(fuzzy[i : i + n]) != pfuzzy or phrase in hits:
                    continue
                span = text[i : i + n]
                if span in phrases:  # the exact keyword already counted: no echo of it
                    continue
                # a typo keeps some of the word (躁音/噪音, 报袖/报修): all-new characters are chance
                if sum(a == b for a, b in zip(span, phrase, strict=True)) < max(1, n // 2):
                    continue
                if tuple(syl[i : i + n]) == psyl:
                    found.append((phrase, HOMOPHONE_FACTOR, i, i + n))
                elif n >= 3:
                    found.append((phrase, NEAR_HOMOPHONE_FACTOR, i, i + n))
        if not found:
            return
        found = _domain_first(found)
        known = self._tokenizer().known
        for phrase, strength, a, b in found:
            straddled = known(text[a - 1 : a + 1]) if a else 0
            straddled = straddled or (known(text[b - 1 : b + 1]) if b < len(text) else 0)
            if not straddled and not known(text[a:b]) and phrase not in hits:
                hits[phrase] = (strength, a, b)

    @staticmethod
    def _negated(text: str, start: int, end: int, phrase: str) -> bool:
        """Said not to be happening: "没有噪音了", "楼上不吵了，谢谢", "垃圾已经清理了".

        Only within the keyword's own clause; a question ("是不是漏气了") is not a negation.
        """
        if phrase.startswith(_NEGATORS):
            return False
        clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
        clause_end = next((m.start() for m in _CLAUSE_END.finditer(text, end)), len(text))
        before = text[max(clause_start, start - 4) : start]
        after = text[end:clause_end]
        if any(q in text[clause_start:start] for q in _QUESTION_BEFORE):
            return False
        if _DONE_AFTER.match(after[:8]):
            return True
        return any(n in before for n in _NEGATORS) and (
            "了" in after[:6] or any(t in text for t in _THANKS)
        )

    def _fuzzy_hits(self, text: str, toks: list[str] | None) -> dict[str, float]:
        """rapidfuzz over the long keywords that share enough characters with the text to reach the cutoff.

        The character pre-filter keeps this pass cheap: most messages leave no candidate, and then
        neither rapidfuzz nor jieba runs.
        """
        counts: dict[int, int] = defaultdict(int)
        for ch in set(text):
            for idx in self._fuzzy_index.get(ch, ()):
                counts[idx] += 1
        choices = [self._fuzzy_choices[i] for i, c in counts.items() if c >= len(self._fuzzy_choices[i]) - 1]
        found: dict[str, float] = {}
        if not choices:
            return found
        for phrase, score, _ in process.extract(
            text, choices, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=8
        ):
            found[phrase] = score / 100.0
        joined = " ".join(toks if toks is not None else tx.tokens(text, self._tokenizer().name))
        for phrase, score, _ in process.extract(
            joined, choices, scorer=fuzz.token_set_ratio, score_cutoff=90, limit=4
        ):
            found[phrase] = max(found.get(phrase, 0.0), score / 100.0)
        return found

    # -- scoring --------------------------------------------------------------------------------

    def classify(self, raw: str) -> Result:
        text = tx.canonical(raw)
        m = self.model
        if not any(c.isalnum() for c in text):
            return Result(intents=[], ambiguous=True)
        scores = list(m.bias)
        evidence: dict[int, list[tuple[float, str]]] = defaultdict(list)
        negated: list[str] = []
        toks: list[str] | None = None
        learned: _Votes | None = None
        special = self._special
        emergency, feared = scan(text) if special.get("act.sos") is not None else (None, [])

        if m.features:
            toks = tx.tokens(text, self._tokenizer().name)
            learned = self._add_features(text, toks, scores)

        disc = None
        by_clause: dict[int, dict[int, float]] = {}  # clause start -> label -> score, for `parts`
        aside: dict[str, dict[int, float]] = {"resolved": defaultdict(float), "progress": defaultdict(float)}
        if m.phrases:
            hits = self._phrase_hits(text)
            if special:
                disc = analyse(text, {a for _, a, _ in hits.values()})
            spans = [(a, b) for p, (_, a, b) in hits.items() if self._negated(text, a, b, p)]
            named: dict[int, float] = {}  # complaint label -> the weight of its keywords that name a thing
            held: list[tuple[int, float, str, int]] = []  # judgements, counted once the things are known
            bounds = clauses(text)
            sos = special.get("act.sos")
            for phrase, (strength, start, end) in hits.items():
                why = disc.why(start, end) if disc else None
                if why == "addressee":  # "@物业 电梯又停了": the lift is the matter, the property company the reader
                    for li, w in m.phrases[phrase]:  # counted for the message, never a part of its own
                        if li != sos:
                            scores[li] += w * strength * ADDRESSEE_FACTOR
                            evidence[li].append((w * strength * ADDRESSEE_FACTOR, f"@{phrase}"))
                    continue
                if why is None and any(a <= start and end <= b for a, b in spans):
                    why = "negated"  # inside a negated keyword: 噪 in 噪音
                if why is not None:
                    if why in ("negated", "resolved"):
                        negated.append(phrase)
                    for li, w in m.phrases[phrase]:
                        aside.get(why, {})[li] = aside.get(why, {}).get(li, 0.0) + w * strength
                    continue
                clause = next((a for a, b in bounds if a <= start < b), 0)
                judged = m.judgements.get(phrase, ())
                for li, w in m.phrases[phrase]:
                    if li == sos:
                        continue  # emergencies are the detector's to say, with its guards
                    label = phrase if strength == 1.0 else f"≈{phrase}"
                    if li in judged:
                        held.append((li, w * strength, label, clause))
                        continue
                    if w > 0 and li in self._named_kinds:
                        named[li] = named.get(li, 0.0) + w * strength
                    scores[li] += w * strength
                    evidence[li].append((w * strength, label))
                    row = by_clause.setdefault(clause, {})
                    row[li] = row.get(li, 0.0) + w * strength
            for li, v, label, clause in held:  # 太危险: for safety only when nothing else is named
                if not named.get(li) and any(x >= NAMES_THE_THING for o, x in named.items() if o != li):
                    continue
                scores[li] += v
                evidence[li].append((v, label))
                row = by_clause.setdefault(clause, {})
                row[li] = row.get(li, 0.0) + v
            if self._hours is not None:
                self._hours_of_service(scores, evidence, by_clause)
            for li, weight, word in self._readings(text, emergency, feared):
                scores[li] += weight
                evidence[li].append((weight, word))
                row = by_clause.setdefault(next((a for a, b in bounds if a <= text.find(word) < b), 0), {})
                row[li] = row.get(li, 0.0) + weight
            if text.isascii():
                self._pinyin_hits(latin.read_pinyin(text), scores, evidence)
            elif _LATIN_RUN.search(text):  # 请问yi jian是几号, 我家nuan qi不热: pinyin among the characters
                for run in _LATIN_RUN.findall(text):
                    self._pinyin_hits(latin.read_run(run), scores, evidence)
            if not self._passes(scores):
                for phrase, strength in self._fuzzy_hits(text, toks).items():
                    if phrase in hits:
                        continue
                    for li, w in m.phrases[phrase]:
                        if li == sos:
                            continue
                        scores[li] += w * strength * FUZZY_FACTOR
                        evidence[li].append((w * strength * FUZZY_FACTOR, f"~{phrase}"))
            if self.ngrams is not None and not self._passes(scores):
                self.ngrams.vote(text, scores, evidence, [(x.start, x.end) for x in disc.spans] if disc else ())
        return self._rank(text, scores, self._explainer(evidence, learned), negated, emergency, disc, by_clause,
                          aside)

    def _hours_of_service(self, scores: list[float], evidence: dict[int, list[tuple[float, str]]],
                          by_clause: dict[int, dict[int, float]]) -> None:
        """积分超市几点开门, 助餐点几点开门: the hours asked in a clause that names a service are that service's, so
        the answer is the service's own card, not the community office's hours."""
        hours = self._hours
        for row in by_clause.values():
            v = row.get(hours, 0.0)
            named = [li for li in self._timed if row.get(li, 0.0) >= NAMES_THE_THING]
            if v <= 0 or not named:
                continue
            to = max(named, key=lambda li: row[li])
            row[hours] = 0.0
            row[to] += v
            scores[hours] -= v
            scores[to] += v
            evidence[to].append((v, "(hours of the service)"))

    def _readings(self, text: str, emergency: Emergency | None, feared: list[str]) -> list[tuple[int, float, str]]:
        """What the emergency detector's words meant when they raised no alert, as votes (label, weight, word): a
        swindle past its alert and a fire feared go to the police post (safety); money a landlord or a boss kept
        goes to the category of that dispute."""
        labels = self.model.labels
        votes: list[tuple[int, float, str]] = []
        if self._swindle is not None and (emergency is None or emergency.kind != "fraud"):
            said = swindle_reported(text)
            if said:
                votes.append((self._swindle, SWINDLE_WEIGHT, said[0]))
            if feared:
                votes.append((self._swindle, HAZARD_WEIGHT, feared[0]))
            party = known_party(text)
            if party is not None and party[0] in labels:
                votes.append((labels.index(party[0]), PARTY_WEIGHT, party[1]))
        return votes

    def _explainer(self, evidence: dict[int, list[tuple[float, str]]],
                   learned: _Votes | None) -> Callable[[int], list[str]]:
        """label index -> its strongest evidence; a learned model's votes are summed only when asked."""
        feats = self.model.features

        def explain(li: int) -> list[str]:
            items = list(evidence.get(li, []))
            if learned is not None:
                gs, xs = learned
                items += [(v, g[2:]) for g, x in zip(gs, xs, strict=True) if (v := x * feats[g][li + 1]) > 0.02]
            return _top_evidence(items)

        return explain

    def _pinyin_hits(self, syl: list[str] | None, scores: list[float],
                     evidence: dict[int, list[tuple[float, str]]]) -> None:
        """Keywords spelt in pinyin ("ting dian le" holds 停电): matched on toneless syllables."""
        if not syl:
            return
        found: list[tuple[str, float, int, int]] = []
        for i in range(len(syl) - 1):
            key = (_fuzzy_syllable(syl[i]), _fuzzy_syllable(syl[i + 1]))
            for phrase, psyl, _ in self._by_syllable.get(key, ()):
                n = len(psyl)
                if tuple(syl[i : i + n]) == psyl:
                    found.append((phrase, PINYIN_FACTOR, i, i + n))
        seen: set[str] = set()
        for phrase, _, i, j in _domain_first(found):  # "yi jian": 义剪, the community's word, not 意见
            psyl = tuple(syl[i:j])
            if phrase in seen:
                continue
            seen.add(phrase)
            for li, w in self.model.phrases[phrase]:
                if li == self._special.get("act.sos"):
                    continue
                scores[li] += w * PINYIN_FACTOR
                evidence[li].append((w * PINYIN_FACTOR, f"≈{phrase}({''.join(psyl)})"))

    def _add_features(self, text: str, toks: list[str], scores: list[float]) -> _Votes:
        """Add the learned features' votes to `scores`; return (features, values) for the evidence.

        One dict lookup per feature, then per-label sums that run in C (`map`).
        """
        feats = self.model.features
        gs: list[str] = []
        xs: list[float] = []
        rows: list = []
        for counts in tx.feature_counts(text, toks):
            found = [(g, feats[g]) for g in counts if g in feats]
            vs = [(1.0 + math.log(counts[g])) * row[0] if counts[g] > 1 else row[0] for g, row in found]
            norm = math.sqrt(sum(map(mul, vs, vs))) or 1.0
            gs.extend(g for g, _ in found)
            rows.extend(row for _, row in found)
            xs.extend(v / norm for v in vs)
        for li, col in enumerate(self._columns):
            scores[li] += sum(map(mul, xs, map(col, rows)))
        return gs, xs

    def _passes(self, scores: list[float]) -> bool:
        best = max(scores, default=0.0)
        return best > 0 and self._confidence(best) >= self.floor

    def _confidence(self, s: float) -> float:
        return 1.0 - math.exp(-max(s, 0.0) / SATURATION)

    def _rank(self, text: str, scores: list[float], explain: Callable[[int], list[str]],
              negated: list[str], emergency: Emergency | None, disc: Discourse | None,
              by_clause: dict[int, dict[int, float]], aside: dict[str, dict[int, float]]) -> Result:
        m = self.model
        if m.kind == "learned":
            t = m.temperature
            top = max(scores)
            exps = [math.exp((s - top) * t) for s in scores]
            z = sum(exps)
            confs = [e / z for e in exps]
            order = sorted(range(len(scores)), key=lambda i: -scores[i])[:5]
        else:
            order = [i for i in sorted(range(len(scores)), key=lambda i: -scores[i]) if scores[i] > 0]
            if any(not m.info[m.labels[i]].weak for i in order):
                order = [i for i in order if not m.info[m.labels[i]].weak]
            confs = [1.0 - math.exp(-s / SATURATION) if s > 0 else 0.0 for s in scores]
            order = order[:5]
        matches = {
            i: Match(id=m.labels[i], name=m.name(m.labels[i]), score=confs[i], evidence=partial(explain, i))
            for i in order
        }
        special = self._special
        resolved_topic = progress_topic = None
        if disc is not None:
            resolved_topic = self._topic(aside["resolved"]) or (disc.marker_topic() if disc.resolved else None)
            if disc.progress:
                progress_topic = self._topic(aside["progress"]) or self._guess_topic(text, disc, "progress")
        parts: list[int] = []
        pinned: dict[int, Match] = {}
        if emergency is not None:
            li = special["act.sos"]
            pinned[li] = Match(id="act.sos", name=m.name("act.sos"), score=0.99, evidence=emergency.evidence)
            parts.append(li)
        wd = special.get("act.withdraw")
        if wd is not None and wd in order and not takes_back(text):  # "低保被取消了": a complaint, not a take-back
            order.remove(wd)
            confs[wd] = 0.0
            matches.pop(wd, None)
            for row in by_clause.values():
                row.pop(wd, None)
            by_clause = {k: row for k, row in by_clause.items() if row}
        withdrawing = (wd is not None and confs[wd] >= self.floor and emergency is None
                       and not any(confs[i] > confs[wd] for i in order if m.info[m.labels[i]].kind == "service")
                       and any(not e.startswith(("~", "≈")) for e in explain(wd)))  # said, not a near miss
        if withdrawing:  # "刚才那个报修不用修了": a case taken back; the complaint words only say which one
            pinned[wd] = matches.get(wd) or Match("act.withdraw", m.name("act.withdraw"), confs[wd])
            parts.append(wd)
        if disc is not None and disc.progress and special.get("act.my_tickets") is not None and not withdrawing:
            li = special["act.my_tickets"]
            ev = list(dict.fromkeys([*disc.progress_markers, *explain(li)]))[:6]
            pinned[li] = Match(id="act.my_tickets", name=m.name("act.my_tickets"), score=max(confs[li], 0.9),
                               evidence=ev)
            parts.append(li)
        if special:
            parts += self._asked(order, confs, by_clause, parts)
        else:
            parts += order[:1] if order and confs[order[0]] >= self.floor else []
        if not parts and disc is not None and (disc.resolved or (disc.thanks and negated)):
            li = special.get("act.greeting")
            if li is not None:  # a problem said to be fixed, or thanks for it: nothing to open
                ev = list(dict.fromkeys([*disc.resolved_markers, *explain(li)]))
                pinned[li] = Match(id="act.greeting", name=m.name("act.greeting"), score=max(confs[li], 0.9),
                                   evidence=ev[:6])
                parts.append(li)
                order = [i for i in order if m.info[m.labels[i]].kind != "complaint"]
        ranked = [pinned.get(i) or matches.get(i) or Match(m.labels[i], m.name(m.labels[i]), confs[i])
                  for i in parts]
        ranked += [matches[i] for i in order if i not in parts][: max(0, 5 - len(ranked))]
        rivals = [x for x in ranked[1:] if x.id not in {m.labels[i] for i in parts}]
        ambiguous = (
            not ranked
            or ranked[0].score < self.floor
            or (bool(rivals) and ranked[0].score - rivals[0].score < self.margin and not pinned.get(parts[0]))
        ) if not (parts and parts[0] in pinned) else False
        result = Result(intents=ranked, ambiguous=ambiguous, negated=negated, emergency=emergency,
                        resolved_topic=resolved_topic, progress_topic=progress_topic,
                        parts=[m.labels[i] for i in parts])
        if not ranked or ambiguous:
            self._latin_to_person(text, result)
        return result

    def _asked(self, order: list[int], confs: list[float], by_clause: dict[int, dict[int, float]],
               already: list[int]) -> list[int]:
        """Complaints, then questions, that the message asks to act on.

        The overall best match is one; another clause's own best match is another when it is sure on
        its own (停水了，顺便问下我积分多少). Greetings and help are never a part beside a real request.
        """
        m = self.model
        found: list[int] = []
        if order and confs[order[0]] >= self.floor:
            found.append(order[0])
        for row in by_clause.values():
            li = max(row, key=row.__getitem__)
            if self._confidence(row[li]) >= self.floor and li not in found:
                found.append(li)
        found = [i for i in found if i not in already]
        real = [i for i in found if not m.info[m.labels[i]].weak]
        if real or already:
            found = real
        rank = {"complaint": 0, "service": 1, "action": 1}
        found.sort(key=lambda i: (rank.get(m.info[m.labels[i]].kind, 1), -confs[i]))
        return found

    def _topic(self, votes: dict[int, float]) -> str | None:
        """The complaint category that the set-aside words point to most."""
        m = self.model
        best = [(w, li) for li, w in votes.items()
                if m.info[m.labels[li]].kind == "complaint" and m.labels[li] != "other" and w > 0]
        return m.labels[max(best)[1]] if best else None

    def _guess_topic(self, text: str, disc: Discourse, why: str) -> str | None:
        """The complaint category of the spans set aside for `why`, by the n-gram model when no keyword named it."""
        if self.ngrams is None:
            return None
        piece = "，".join(text[s.start : s.end] for s in disc.spans if s.why == why)
        post, _ = self.ngrams.posteriors(piece)
        m = self.model
        best = [(p, li) for li, p in enumerate(post) if m.info[m.labels[li]].kind == "complaint"
                and m.labels[li] != "other"]
        total = sum(p for p, _ in best)
        if not total:
            return None
        p, li = max(best)
        return m.labels[li] if p / total >= 0.6 else None  # sure among the complaints, whatever else it is

    def _latin_to_person(self, text: str, result: Result) -> None:
        """Latin text nothing matched goes to a person (unsure, so the bot offers one), never to small talk."""
        li = self._special.get("act.human")
        if li is None or _HAN.search(text) or not re.search(r"[a-z]{2}", text):
            return
        top = result.top
        if top is not None and top.id != "act.greeting" and top.score >= self.floor:
            return
        if top is not None and top.id == "act.greeting" and not re.search(r"[a-z]{3,}\s+[a-z]{3,}", text):
            return  # "hello", "thanks": small talk is right
        human = Match(id="act.human", name=self.model.name("act.human"), score=0.4, evidence=["latin"])
        result.intents = [human, *[x for x in result.intents if x.id != "act.human"]][:5]
        result.ambiguous = True


def _domain_first(found: list[tuple[str, float, int, int]]) -> list[tuple[str, float, int, int]]:
    """Where one span sounds like several keywords (意剪: 义剪 and 意见), the community's own word wins: input methods
    know 意见 and give it whole, but not 义剪, which residents put together a character at a time and get wrong."""
    domain = tx.domain_words()
    spans = {(a, b) for phrase, _, a, b in found if phrase in domain}
    if not spans:
        return found
    return [f for f in found if f[0] in domain or (f[2], f[3]) not in spans]


def _ngram_model(model: Model) -> NgramModel | None:
    """The fallback learns every keyword (as a short document, weighted like the keyword) and every example."""
    skip = {model.labels.index(k) for k in ("act.sos",) if k in model.labels}
    docs: list[tuple[str, int, float]] = []
    for phrase, targets in model.phrases.items():
        docs += [(phrase, li, w / 3.0) for li, w in targets if w > 0 and li not in skip]
    index = {lab: i for i, lab in enumerate(model.labels)}
    for label, texts in model.examples.items():
        if label in index and index[label] not in skip:
            docs += [(tx.canonical(t), index[label], 1.0) for t in texts]
    return NgramModel(model.labels, docs) if docs else None


_default: Engine | None = None


def get_engine() -> Engine:
    """The process-wide engine on the shipped taxonomy (loaded on first use)."""
    global _default
    if _default is None:
        _default = Engine.from_file()
    return _default


def classify(text: str) -> Result:
    return get_engine().classify(text)


def _top_evidence(items: list[tuple[float, str]], k: int = 6) -> list[str]:
    """The strongest distinct pieces of evidence, strongest first."""
    return list(dict.fromkeys(e for _, e in sorted(items, key=lambda x: -x[0])))[:k]
