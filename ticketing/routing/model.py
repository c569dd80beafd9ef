"""The learned topic model at run time: a linear model over the router's features, calibrated.

Trained by `ticketing.routing.training` (scikit-learn); scored here with numpy alone, one text at
a time (the router) or many at once (benchmarks, re-routing). For a text with features f:

    x = count(f) * idf(f) / sqrt(sum over g of count(g) * idf(g)^2)     (TF-IDF, as in training)
    s = x · W + b                                                        (one score per category)
    p = softmax(scale * s + offset)                         (calibrated on held-out rows)
    category = argmax(log p + choice)
    confidence = sigmoid(a * log p[category] + b * lead + c[category])
    lead = log p[category] - the largest log p of another category

`scale` and `offset` were fitted on predictions for rows the model had not been trained on, and so
were `reliability` = [a, b, c...]: the confidence is the chance that the choice is right, read
from its probability, its lead and the category chosen (how often a choice is right at a given
p differs between categories). It is a probability one can set a threshold on: the triage
threshold is the lowest confidence at which the held-out choices above it were right at least
`target_precision` of the time. Models stored without `reliability` use p[category].
The words that pushed the decision are the features with the largest x_f * W[f, category].

The norm counts each occurrence once (sqrt of the summed idf^2 over occurrences; the l2 norm of x
when no feature repeats), so a question scores as a plain sum of one precomputed row per feature
occurrence, scaled once: no counting or sorting per question (format 2; format 1 was the l2
norm of sublinear counts, and has to be trained again).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import add, itemgetter
from typing import Any

import numpy as np
from scipy import sparse

from ticketing.domain.routing.classifier import Evidence, TopicOpinion
from ticketing.domain.routing.features import CHARS, readable
from ticketing.domain.routing.matching import Match
from ticketing.routing.feature_index import FeatureIndex

FORMAT = 2


def threshold_for(confidence: np.ndarray, correct: np.ndarray, target: float) -> tuple[float, float]:
    """(threshold, coverage): the lowest confidence such that the predictions at or above it are
    right at least `target` of the time, and the share of questions that reach it. With no such
    threshold: (1.0 + tiny, 0.0), i.e. everything goes to triage."""
    if len(confidence) == 0:
        return 1.000001, 0.0
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return 1.000001, 0.0
    last = int(ok[-1])
    # Ties: everything with the threshold's confidence is auto-routed, so count them all.
    threshold = float(confidence[order[last]])
    return threshold, float(np.mean(confidence >= threshold))


@dataclass
class TopicModel:
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_classes)
    intercept: np.ndarray  # (n_classes,)
    scale: float
    offset: np.ndarray  # (n_classes,)
    #: Added to log p to choose (balances each category's precision and recall, see training.py).
    choice: np.ndarray  # (n_classes,)
    #: Held-out calibrated confidences and whether they were right, to set thresholds from.
    holdout_confidence: np.ndarray
    holdout_correct: np.ndarray
    target_precision: float = 0.9
    version: str = "unsaved"
    info: dict[str, Any] = field(default_factory=dict)
    #: [a, b, c per category] of the confidence (see above); None: the confidence is p[category].
    reliability: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.threshold, self.coverage = threshold_for(
            self.holdout_confidence, self.holdout_correct, self.target_precision
        )
        self._classes = np.array(self.classes)
        self._choice = self.choice.tolist()
        # One row per feature: what one occurrence adds to the calibrated scores before the norm,
        # then its idf^2 (what it adds to the norm's square), padded to 16 floats: one cache line.
        n, k = self.coef.shape
        self._rows = _aligned_rows(n, max(16, k + 1))
        self._rows[:, :k] = self.coef * (self.idf[:, None] * np.float32(self.scale))
        self._rows[:, k] = np.square(self.idf)
        self._bias = (self.scale * self.intercept + self.offset).astype(np.float32)
        w = self.reliability
        self._reliability = None if w is None else (float(w[0]), float(w[1]), w[2:].tolist())

    @cached_property
    def _index(self) -> FeatureIndex:
        return FeatureIndex(self.vocabulary)

    def with_target(self, target_precision: float) -> TopicModel:
        """The same model with its triage threshold set for another target precision."""
        model = TopicModel(
            self.classes, self.vocabulary, self.idf, self.coef, self.intercept, self.scale, self.offset, self.choice,
            self.holdout_confidence, self.holdout_correct, target_precision, self.version, self.info,
            self.reliability,
        )  # fmt: skip
        model.__dict__["_index"] = self._index
        model.__dict__["_readable"] = self._readable
        model.__dict__["_fragments"] = self._fragments
        return model

    # -- scoring --------------------------------------------------------------------------
    def _scores(self, columns: Sequence[int]) -> tuple[list[float], np.ndarray | None, float]:
        """(calibrated scores z, one row per feature occurrence before the norm or None, 1 / the
        norm) for one question's feature columns, one entry per occurrence."""
        if not columns:
            return self._bias.tolist(), None, 1.0
        rows = self._rows.take(columns, axis=0)  # from the list itself: no array of indices first
        total = rows.sum(axis=0)
        k = len(self.classes)
        inverse = 1.0 / math.sqrt(total[k])
        return (total[:k] * inverse + self._bias).tolist(), rows, inverse

    def probabilities(self, features: Sequence[str]) -> np.ndarray:
        get = self.vocabulary.get
        z, _, _ = self._scores([i for i in map(get, features) if i is not None])
        return _softmax(np.array(z))

    def opinion(self, tokens: Sequence[str], matches: Sequence[Match], explain: int = 6) -> TopicOpinion:
        """The ranked categories with probabilities, and the words behind the best one."""
        columns = self._index.columns(tokens, matches)
        z, rows, inverse = self._scores(columns)
        # Thirteen numbers: plain Python beats numpy's per-call cost here.
        top = max(z)
        exp = math.exp
        e = [exp(v - top) for v in z]
        total = sum(e)
        choose = list(map(add, z, self._choice))  # orders like log p + choice
        ranked = sorted(range(len(choose)), key=choose.__getitem__, reverse=True)[:4]
        evidence: tuple[Evidence, ...] = ()
        if rows is not None:
            evidence = self._evidence(columns, rows[:, ranked[0]], inverse, explain)
        classes = self.classes
        ranked_p = tuple([(classes[k], rounded(e[k] / total, 3)) for k in ranked])
        best = ranked[0]
        if self._reliability is None:
            confidence = ranked_p[0][1]
        else:
            a, b, c = self._reliability
            lead = z[best] - top if z[best] < top else z[best] - max(z[:best] + z[best + 1 :])
            confidence = rounded(_sigmoid(a * (z[best] - top - math.log(total)) + b * lead + c[best]), 3)
        return TopicOpinion(ranked_p, confidence, evidence, self.threshold, self.version)

    def _evidence(self, columns: list[int], pushes: np.ndarray, scale: float, limit: int) -> tuple[Evidence, ...]:
        """The features that pushed most, by their readable words (a word can come as itself, as
        a rule word "@" and in character pairs "#", and several times: their pushes add up). A
        pair of characters that the model does not also know as a word is not shown: 政复 or 家房
        (行政复议, 我家房子) pushes the decision like any feature, but reads as nothing to a lawyer."""
        strongest = np.argsort(pushes)[: -3 * limit - 1 : -1]  # enough to merge and skip into `limit`
        names, fragments = self._readable, self._fragments
        values = pushes.tolist()
        merged: dict[str, float] = {}
        for k in strongest.tolist():
            push = values[k]
            if push <= 0:
                break
            column = columns[k]
            if fragments[column]:
                continue
            word = names[column]
            merged[word] = merged.get(word, 0.0) + push * scale
        best = sorted(merged.items(), key=itemgetter(1), reverse=True)[:limit]  # ties: the first found
        return tuple([Evidence(word, weight) for word, push in best if (weight := rounded(push, 2)) > 0])

    @cached_property
    def _readable(self) -> list[str]:
        return [readable(name) for name in self.feature_names()]

    @cached_property
    def _fragments(self) -> list[bool]:
        """Per feature: a pair of characters that is not also one of the model's words."""
        words = self.vocabulary
        return [name.startswith(CHARS) and name[1:] not in words for name in self.feature_names()]

    def feature_names(self) -> list[str]:
        names = self.__dict__.get("_names")
        if names is None:
            names = [""] * len(self.vocabulary)
            for name, i in self.vocabulary.items():
                names[i] = name
            self.__dict__["_names"] = names
        return names

    def matrix(self, documents: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """TF-IDF rows for many feature lists at once."""
        indptr, indices = [0], []
        get = self.vocabulary.get
        for features in documents:
            indices.extend(i for i in map(get, features) if i is not None)
            indptr.append(len(indices))
        counts = sparse.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.intp), np.asarray(indptr)),
            shape=(len(documents), len(self.vocabulary)),
        )
        counts.sum_duplicates()
        return tfidf_rows(counts, self.idf)

    def probabilities_batch(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        scores = np.asarray(self.matrix(documents) @ self.coef) + self.intercept
        return _softmax(self.scale * scores + self.offset)

    def predict_batch(self, documents: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
        """(best category, the confidence in it) per document."""
        log_p = np.log(self.probabilities_batch(documents) + 1e-12)
        best = (log_p + self.choice).argmax(axis=1)
        return list(self._classes[best]), confidence(log_p, best, self.reliability)

    # -- storage --------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        header = {
            "format": FORMAT,
            "classes": list(self.classes),
            "features": self.feature_names(),
            "scale": self.scale,
            "target_precision": self.target_precision,
            "version": self.version,
            "info": self.info,
        }
        out = io.BytesIO()
        np.savez_compressed(
            out,
            header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            offset=self.offset.astype(np.float32),
            choice=self.choice.astype(np.float32),
            holdout_confidence=self.holdout_confidence.astype(np.float32),
            holdout_correct=self.holdout_correct.astype(bool),
            **({} if self.reliability is None else {"reliability": self.reliability.astype(np.float64)}),
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TopicModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes().decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"topic model format {header.get('format')!r}, expected {FORMAT}: train it again")
            return cls(
                classes=tuple(header["classes"]),
                vocabulary={name: i for i, name in enumerate(header["features"])},
                idf=arrays["idf"],
                coef=np.ascontiguousarray(arrays["coef"]),
                intercept=arrays["intercept"],
                scale=float(header["scale"]),
                offset=arrays["offset"],
                choice=arrays["choice"],
                holdout_confidence=arrays["holdout_confidence"],
                holdout_correct=arrays["holdout_correct"],
                target_precision=float(header["target_precision"]),
                version=header["version"],
                info=header["info"],
                reliability=arrays["reliability"] if "reliability" in arrays.files else None,
            )


def reliability_inputs(log_p: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Per row [log p of the choice, its lead over the next category, one-hot of the choice]: what
    the confidence is read from (`reliability` weighs these columns)."""
    n, k = log_p.shape
    rows = np.arange(n)
    mine = log_p[rows, chosen]
    others = log_p.copy()
    others[rows, chosen] = -np.inf
    onehot = np.zeros((n, k))
    onehot[rows, chosen] = 1.0
    return np.column_stack([mine, mine - others.max(axis=1), onehot])


def confidence(log_p: np.ndarray, chosen: np.ndarray, reliability: np.ndarray | None) -> np.ndarray:
    """The confidence in each row's choice (p of the choice without `reliability`)."""
    if reliability is None:
        return np.exp(log_p[np.arange(len(chosen)), chosen])
    return 1.0 / (1.0 + np.exp(-(reliability_inputs(log_p, chosen) @ reliability)))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


_SCALES = {digits: 10.0**digits for digits in range(16)}


def rounded(x: float, digits: int) -> float:
    """round(x, digits), at a third of its cost: CPython's round prints x's decimal digits and
    parses them back. Unless x * 10^digits lies within rounding error of a half, its nearest
    integer k is the decimal rounding, and k / 10^digits (one IEEE division) is the double
    nearest that decimal, which is what round's parse returns; near a half, round decides."""
    scale = _SCALES[digits]
    y = x * scale
    k = round(y)
    if abs(y - k) < 0.499:
        return k / scale if k else math.copysign(0.0, x)
    return round(x, digits)


def tfidf_rows(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """count * idf / sqrt(count · idf^2) per row: the weighting the model is trained and scored with."""
    norms = np.sqrt(np.asarray(counts @ np.square(idf, dtype=np.float32)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).dot(counts.multiply(idf).tocsr()).tocsr().astype(np.float32)


def _aligned_rows(n: int, width: int) -> np.ndarray:
    """An (n, width) float32 array of zeros whose rows start on 64-byte cache-line boundaries."""
    buffer = np.zeros(n * width + 16, dtype=np.float32)
    skip = (-buffer.ctypes.data % 64) // 4
    return buffer[skip : skip + n * width].reshape(n, width)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
