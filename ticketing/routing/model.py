"""The learned topic model at run time: a linear model over the router's features, calibrated.

Trained by `ticketing.routing.training` (scikit-learn); scored here with numpy alone, one text at
a time (the router) or many at once (benchmarks, re-routing). For a text with features f:

    x = l2-normalised (1 + log count(f)) * idf(f)          (TF-IDF, as in training)
    s = x · W + b                                           (one score per category)
    p = softmax(scale * s + offset)                         (calibrated on held-out rows)
    category = argmax(log p + choice), confidence = p[category]

`scale` and `offset` were fitted on predictions for rows the model had not been trained on, so
`p` is a probability one can set a threshold on: the triage threshold is the lowest confidence at
which the held-out predictions above it were right at least `target_precision` of the time.
The words that pushed the decision are the features with the largest x_f * W[f, category].
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from ticketing.domain.routing.classifier import Evidence, TopicOpinion
from ticketing.domain.routing.features import readable, text_features
from ticketing.domain.routing.matching import Match

FORMAT = 1


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
    #: Added to log p to choose (favours rare categories where that raises macro-F1).
    choice: np.ndarray  # (n_classes,)
    #: Held-out calibrated confidences and whether they were right, to set thresholds from.
    holdout_confidence: np.ndarray
    holdout_correct: np.ndarray
    target_precision: float = 0.9
    version: str = "unsaved"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.threshold, self.coverage = threshold_for(
            self.holdout_confidence, self.holdout_correct, self.target_precision
        )
        self._classes = np.array(self.classes)
        self._scaled_coef = np.ascontiguousarray(self.coef * np.float32(self.scale))
        self._bias = (self.scale * self.intercept + self.offset).astype(np.float32)

    def with_target(self, target_precision: float) -> TopicModel:
        """The same model with its triage threshold set for another target precision."""
        return TopicModel(
            self.classes, self.vocabulary, self.idf, self.coef, self.intercept, self.scale, self.offset, self.choice,
            self.holdout_confidence, self.holdout_correct, target_precision, self.version, self.info,
        )  # fmt: skip

    # -- scoring --------------------------------------------------------------------------
    def _vector(self, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        get = self.vocabulary.get
        counts: dict[int, int] = {}
        for feature in features:  # this loop is most of a decision's cost: keep it plain
            i = get(feature)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        index = np.fromiter(counts, dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[index]
        values /= np.sqrt(np.dot(values, values))
        return index, values

    def probabilities(self, features: Sequence[str]) -> np.ndarray:
        index, values = self._vector(features)
        scores = values @ self.coef[index] + self.intercept
        return _softmax(self.scale * scores + self.offset)

    def opinion(self, tokens: Sequence[str], matches: Sequence[Match], explain: int = 6) -> TopicOpinion:
        """The ranked categories with probabilities, and the words behind the best one."""
        index, values = self._vector(text_features(tokens, matches))
        # Few numpy calls: each costs about a microsecond whatever its size.
        z = values @ self._scaled_coef[index] + self._bias if len(index) else self._bias.copy()
        e = np.exp(z - z.max())
        p = (e / e.sum()).tolist()
        # log p + choice orders like z + choice (log p is z less one constant).
        ranked = np.argsort(-(z + self.choice))[:4].tolist()
        best = ranked[0]
        evidence: tuple[Evidence, ...] = ()
        if len(index):
            evidence = self._evidence(index, values * self._scaled_coef[index, best], explain)
        classes = self.classes
        return TopicOpinion(
            ranked=tuple((classes[k], round(p[k], 3)) for k in ranked),
            evidence=evidence,
            threshold=self.threshold,
            version=self.version,
        )

    def _evidence(self, index: np.ndarray, pushes: np.ndarray, limit: int) -> tuple[Evidence, ...]:
        names = self.feature_names()
        strongest = np.argsort(-pushes)[: 3 * limit]  # a word can come as itself, "@" and "#" pairs
        merged: dict[str, float] = {}
        for push, i in zip(pushes[strongest].tolist(), index[strongest].tolist(), strict=True):
            if push <= 0:
                break
            word = readable(names[i])
            merged[word] = merged.get(word, 0.0) + push
        best = sorted(merged.items(), key=lambda e: (-e[1], e[0]))[:limit]
        return tuple(Evidence(word, round(push, 2)) for word, push in best if round(push, 2) > 0)

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
        indptr, indices, data = [0], [], []
        vocabulary = self.vocabulary
        for features in documents:
            counts = Counter(f for f in features if f in vocabulary)
            indices.extend(vocabulary[f] for f in counts)
            data.extend(1.0 + math.log(c) for c in counts.values())
            indptr.append(len(indices))
        x = sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.intp), np.asarray(indptr)),
            shape=(len(documents), len(vocabulary)),
        )
        x = x.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms).dot(x).tocsr()

    def probabilities_batch(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        scores = np.asarray(self.matrix(documents) @ self.coef) + self.intercept
        return _softmax(self.scale * scores + self.offset)

    def predict_batch(self, documents: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
        """(best category, its probability) per document."""
        p = self.probabilities_batch(documents)
        best = (np.log(p + 1e-12) + self.choice).argmax(axis=1)
        return list(self._classes[best]), p[np.arange(len(best)), best]

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
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TopicModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes().decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"unknown topic model format {header.get('format')!r}")
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
            )


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
