"""Fitting and cross-validating the topic model (scikit-learn); scoring is in `model.py`.

`fit` learns from labelled examples (the router's features of a question and its category):
1. TF-IDF over the features (the weighting of `model.py`), and a linear model (logistic loss,
   SGD: seconds on 40,000 questions);
2. the same, once per inner fold of the training rows, to predict rows it has not seen;
3. a calibration on those held-out predictions: p = softmax(scale * score + offset), fitted by
   maximum likelihood. The offsets also move the class mix to that of the `natural` rows (rows
   from a balanced sample teach words, not how often a category occurs);
4. the forced choice: per-category additions to log p that balance each category's held-out
   precision and recall (the mean of the smaller of the two);
5. the confidence: the chance that a choice is right, from its probability, its lead over the
   next category and the category chosen (a logistic regression on the held-out choices);
6. the triage threshold: the lowest held-out confidence above which the target precision holds.

`cross_validate` repeats stratified k-fold splits and fits everything above inside the training
folds only, so no figure it reports was tuned on the rows it is measured on.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import mean, pstdev
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier

from ticketing.routing.model import TopicModel, confidence, reliability_inputs, tfidf_rows, threshold_for

#: Rows of the natural class mix weigh this much more in the fit than rows of balanced samples.
NATURAL_WEIGHT = 3.0
ALPHA = 1e-5
EPOCHS = 8
#: Averaged SGD (the mean of the weights over the steps).
AVERAGE = True
INNER_FOLDS = 3
#: A feature counts when this many training questions have it (with 1,000 questions or more).
MIN_DF = 2
#: Features kept after a first fit, the strongest (0: all); see _fit_selected. In 5-fold CV on the
#: developers' data, keeping 15,000 of ~140,000 moved accuracy, macro-F1 and coverage by less than
#: their spread over folds, and halved the model's share of a single decision.
KEEP = 15_000
#: Epochs of the first fit, which only ranks the features.
RANKING_EPOCHS = 3
CHOICE_GRID = np.linspace(-1.0, 2.0, 13)
CHOICE_PASSES = 2
#: Pulls calibration offsets towards 0 (categories the natural rows never show stay possible).
OFFSET_PENALTY = 1e-3
#: Inverse strength of the L2 penalty on the confidence's weights (scikit-learn's C).
RELIABILITY_C = 0.1


@dataclass(frozen=True)
class Example:
    features: Sequence[str]
    label: str
    #: From the natural class mix (real tickets): calibration, thresholds and headline figures.
    natural: bool = True


def stratified_folds(labels: Sequence[str], k: int, seed: int) -> np.ndarray:
    """A fold number per row: each label's rows shuffled and dealt round-robin (a label with fewer
    than k rows is simply absent from some folds)."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=np.int64)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    start = 0
    for label in sorted(by_label):
        rows = np.array(by_label[label])
        rng.shuffle(rows)
        fold[rows] = (np.arange(len(rows)) + start) % k
        start += len(rows)  # the next label starts where this one stopped: folds stay even
    return fold


def _identity(features: Sequence[str]) -> Sequence[str]:
    return features


def _linear(
    x: Any, y: np.ndarray, weights: np.ndarray, classes: Sequence[str], seed: int, n_jobs: int, epochs: int = EPOCHS
) -> Any:
    # SGD's step size shrinks as 1 / (alpha * steps): on a few dozen questions a tiny alpha takes
    # wild first steps, so small sets get more regularisation (none of it at 10,000 rows or more).
    alpha = max(ALPHA, 0.1 / x.shape[0])
    model = SGDClassifier(
        loss="log_loss", alpha=alpha, max_iter=epochs, tol=None, random_state=seed, n_jobs=n_jobs, average=AVERAGE
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y, sample_weight=weights)
    coef = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
    intercept = np.full(len(classes), -10.0, dtype=np.float32)  # a class the fold lacks: never chosen
    column = {c: i for i, c in enumerate(classes)}
    learned = list(model.classes_)
    if len(learned) == 2:  # scikit-learn keeps one column for two classes
        coef[:, column[learned[1]]] = model.coef_[0]
        intercept[column[learned[1]]] = model.intercept_[0]
        coef[:, column[learned[0]]] = 0.0
        intercept[column[learned[0]]] = 0.0
    else:
        for j, c in enumerate(learned):
            coef[:, column[c]] = model.coef_[j]
            intercept[column[c]] = model.intercept_[j]
    return coef, intercept


def calibrate(scores: np.ndarray, gold: np.ndarray, n_classes: int) -> tuple[float, np.ndarray]:
    """(scale, offset) maximising the likelihood of softmax(scale * scores + offset) for `gold`
    (class indices)."""
    n = len(gold)
    if n == 0:
        return 1.0, np.zeros(n_classes)
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), gold] = 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        scale, offset = np.exp(theta[0]), theta[1:]
        z = scale * scores + offset
        lse = logsumexp(z, axis=1)
        value = float(np.mean(lse - z[np.arange(n), gold])) + OFFSET_PENALTY * float(offset @ offset)
        dz = (np.exp(z - lse[:, None]) - onehot) / n
        grad = np.concatenate([[float(np.sum(dz * scores)) * scale], dz.sum(axis=0) + 2 * OFFSET_PENALTY * offset])
        return value, grad

    result = minimize(loss, np.zeros(n_classes + 1), jac=True, method="L-BFGS-B")
    return float(np.exp(result.x[0])), result.x[1:].astype(np.float32)


def _balance(gold: np.ndarray, predicted: np.ndarray, columns: Sequence[int]) -> float:
    """The mean over categories of min(precision, recall): a category scores by its weaker side,
    so no category's recall is bought with its precision (or the other way round)."""
    total = 0.0
    for k in columns:
        tp = float(np.sum((gold == k) & (predicted == k)))
        n_pred, n_gold = float(np.sum(predicted == k)), float(np.sum(gold == k))
        if tp:
            total += min(tp / n_pred, tp / n_gold)
    return total / max(len(columns), 1)


def choice_offsets(p: np.ndarray, gold: np.ndarray, present: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Per-category additions to log p for the forced choice, chosen on held-out predictions to
    balance each category's precision and recall (`_balance`, coordinate ascent over a small
    grid): the most probable category is not always the best choice for the rare ones (行政,
    建设工程). Confidence stays p of the choice. Maximising held-out macro-F1 instead did worse
    on the test folds, macro-F1 included (BENCHMARKS.md): on the few dozen held-out questions of
    a rare category it bought recall that new questions did not repay."""
    offsets = np.zeros(len(classes))
    if len(gold) == 0:
        return offsets
    log_p = np.log(p + 1e-12)
    columns = [classes.index(c) for c in present]
    best = _balance(gold, log_p.argmax(axis=1), columns)
    for _ in range(CHOICE_PASSES):
        for k in columns:
            for value in CHOICE_GRID:
                trial = offsets.copy()
                trial[k] = value
                score = _balance(gold, (log_p + trial).argmax(axis=1), columns)
                if score > best + 1e-9:
                    best, offsets = score, trial
    return offsets


def fit_reliability(log_p: np.ndarray, chosen: np.ndarray, correct: np.ndarray) -> np.ndarray | None:
    """[a, b, c per category] for the confidence (see model.py), fitted to whether the held-out
    choices were right; None when they were all right or all wrong (nothing to learn: the
    confidence is then p of the choice). In 5-fold x 2 cross-validation on the developers' data,
    ranking by it rather than by p auto-routed about one question in a hundred more at the same
    precision (BENCHMARKS.md)."""
    if correct.all() or not correct.any():
        return None
    model = LogisticRegression(C=RELIABILITY_C, max_iter=1000).fit(reliability_inputs(log_p, chosen), correct)
    weights = model.coef_[0].astype(np.float64)
    weights[2:] += model.intercept_[0]  # exactly one category column is 1 in every row
    return weights


def _fit_selected(
    counts: Any,
    idf: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    classes: Sequence[str],
    seed: int,
    n_jobs: int,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(the columns kept or None for all, coef, intercept): with KEEP, a first fit on all columns
    ranks them by how much one occurrence pushes some category (|weight| * idf), and the model is
    fitted again on the KEEP strongest. Most rare word pairs and character pairs barely move a
    decision; without them the model stays small enough for the processor's caches while the
    router runs. The ranking sees only these rows, so the inner folds' held-out predictions stay
    held out."""
    x = tfidf_rows(counts, idf)
    if not 0 < KEEP < counts.shape[1]:
        return None, *_linear(x, labels, weights, classes, seed, n_jobs)
    coef, _ = _linear(x, labels, weights, classes, seed, n_jobs, epochs=RANKING_EPOCHS)
    keep = np.sort(np.argsort(-(np.abs(coef).max(axis=1) * idf), kind="stable")[:KEEP])
    return keep, *_linear(tfidf_rows(counts[:, keep], idf[keep]), labels, weights, classes, seed, n_jobs)


def fit(
    examples: Sequence[Example],
    target_precision: float = 0.9,
    seed: int = 0,
    n_jobs: int = 1,
    inner_folds: int = INNER_FOLDS,
    version: str = "unsaved",
) -> TopicModel:
    if len({e.label for e in examples}) < 2:
        raise ValueError("training needs questions of at least two categories")
    started, started_cpu = time.perf_counter(), time.process_time()
    labels = np.array([e.label for e in examples])
    classes = tuple(sorted(set(labels.tolist())))
    natural = np.array([e.natural for e in examples])
    if not natural.any():
        natural[:] = True  # nothing says which rows show the real mix: take them all
    weights = np.where(natural, NATURAL_WEIGHT, 1.0)
    vectorizer = CountVectorizer(analyzer=_identity, min_df=MIN_DF if len(examples) >= 1000 else 1, dtype=np.float32)
    counts = vectorizer.fit_transform([e.features for e in examples]).tocsr()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + len(examples)) / (1 + df)) + 1).astype(np.float32)  # scikit-learn's smooth idf
    vocabulary = {name: int(i) for name, i in vectorizer.vocabulary_.items()}
    # Held-out scores for the natural rows, from models that did not see them.
    held = np.nonzero(natural)[0]
    fold = stratified_folds(labels[held].tolist(), inner_folds, seed)
    scores = np.zeros((len(held), len(classes)), dtype=np.float32)
    for k in range(inner_folds):
        out = held[fold == k]
        if len(out) == 0:
            continue
        keep = np.ones(len(examples), dtype=bool)
        keep[out] = False
        if len(set(labels[keep].tolist())) < 2:
            continue
        columns, coef, intercept = _fit_selected(counts[keep], idf, labels[keep], weights[keep], classes, seed, n_jobs)
        out_counts = counts[out] if columns is None else counts[out][:, columns]
        out_idf = idf if columns is None else idf[columns]
        scores[fold == k] = np.asarray(tfidf_rows(out_counts, out_idf) @ coef) + intercept
    index = {c: i for i, c in enumerate(classes)}
    gold = np.array([index[c] for c in labels[held]])
    scale, offset = calibrate(scores.astype(np.float64), gold, len(classes))
    columns, coef, intercept = _fit_selected(counts, idf, labels, weights, classes, seed, n_jobs)
    if columns is not None:
        new = np.full(len(vocabulary), -1)
        new[columns] = np.arange(len(columns))
        vocabulary = {name: int(new[i]) for name, i in vocabulary.items() if new[i] >= 0}
        idf = idf[columns]
    z = scale * scores + offset
    p = np.exp(z - logsumexp(z, axis=1)[:, None])
    choice = choice_offsets(p, gold, [c for c in classes if c in set(labels[held].tolist())], classes)
    log_p = np.log(p + 1e-12)
    chosen = (log_p + choice).argmax(axis=1)
    reliability = fit_reliability(log_p, chosen, chosen == gold)
    return TopicModel(
        classes=classes,
        vocabulary=vocabulary,
        idf=idf,
        coef=coef,
        intercept=intercept,
        scale=scale,
        offset=offset,
        choice=choice.astype(np.float32),
        holdout_confidence=confidence(log_p, chosen, reliability).astype(np.float32),
        holdout_correct=chosen == gold,
        target_precision=target_precision,
        version=version,
        info={
            "rows": len(examples),
            "natural_rows": int(natural.sum()),
            "fit_seconds": time.perf_counter() - started,
            "fit_cpu_seconds": time.process_time() - started_cpu,
        },
        reliability=reliability,
    )


# -- evaluation ---------------------------------------------------------------------------
def figures(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float] | None,
    threshold: float | Sequence[bool] | None,
    labels: Sequence[str],
    target_precision: float,
) -> dict[str, Any]:
    """Forced-choice accuracy and macro-F1 over `labels`, per-class precision/recall; with
    confidences: the coverage at the target precision when ranked by confidence, and with a
    threshold (chosen beforehand, on training rows) or which rows were routed: triage rate and
    accuracy of what is routed."""
    g, p = np.array(gold), np.array(predicted)
    right = g == p
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for label in labels:
        tp = float(np.sum(right & (g == label)))
        n_pred, n_gold = float(np.sum(p == label)), float(np.sum(g == label))
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "n": n_gold}
        f1s.append(f1)
    out: dict[str, Any] = {"accuracy": float(np.mean(right)), "macro_f1": float(np.mean(f1s)), "per_class": per_class}
    mistakes = Counter(zip(g[~right].tolist(), p[~right].tolist(), strict=True))
    out["confusion"] = {f"{a}>{b}": n for (a, b), n in mistakes.items()}  # "gold>chosen": how often
    if confidence is not None:
        c = np.asarray(confidence, dtype=np.float64)
        out["coverage_at_target"] = threshold_for(c, right, target_precision)[1]
        if threshold is not None:
            routed = c >= threshold if isinstance(threshold, float | int) else np.asarray(threshold, dtype=bool)
            out["triage_rate"] = float(1 - np.mean(routed))
            out["routed_accuracy"] = float(np.mean(right[routed])) if routed.any() else None
    return out


#: (training rows, test rows) -> (predicted labels, confidences or None, the triage threshold or
#: which test rows were routed without a person, or None)
Contender = Callable[
    [np.ndarray, np.ndarray], tuple[Sequence[str], Sequence[float] | None, float | Sequence[bool] | None]
]


def model_contender(examples: Sequence[Example], target_precision: float, seed: int = 0) -> Contender:
    def run(train: np.ndarray, test: np.ndarray) -> tuple[Sequence[str], Sequence[float], float]:
        model = fit([examples[i] for i in train], target_precision, seed=seed)
        predicted, confidence = model.predict_batch([examples[i].features for i in test])
        return predicted, confidence.tolist(), model.threshold

    return run


def cross_validate(
    examples: Sequence[Example],
    contenders: dict[str, Contender],
    folds: int = 5,
    repeats: int = 1,
    target_precision: float = 0.9,
    labels: Sequence[str] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Figures per contender and per test fold (`folds` x `repeats` of them), measured on the
    natural rows of each test fold; every contender sees the same folds."""
    gold_all = [e.label for e in examples]
    natural = np.array([e.natural for e in examples])
    if not natural.any():
        natural[:] = True
    labels = list(labels or sorted({g for g, n in zip(gold_all, natural, strict=True) if n}))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    for r in range(repeats):
        fold = stratified_folds(gold_all, folds, seed + r)
        for k in range(folds):
            train, test = np.nonzero(fold != k)[0], np.nonzero((fold == k) & natural)[0]
            gold = [gold_all[i] for i in test]
            for name, contender in contenders.items():
                started = time.perf_counter()
                predicted, confidence, threshold = contender(train, test)
                result = figures(gold, predicted, confidence, threshold, labels, target_precision)
                result["seconds"] = time.perf_counter() - started
                results[name].append(result)
                if progress:
                    progress(f"repeat {r + 1} fold {k + 1} {name}: accuracy {result['accuracy']:.3f}")
    return results


def summary(runs: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """name -> (mean, standard deviation) of each figure over the runs (per-class ones as
    "precision:<label>" and "recall:<label>")."""
    flat: dict[str, list[float]] = {}
    for run in runs:
        for key, value in run.items():
            if isinstance(value, float | int):
                flat.setdefault(key, []).append(float(value))
        for label, figs in run.get("per_class", {}).items():
            for key in ("precision", "recall", "f1"):
                flat.setdefault(f"{key}:{label}", []).append(figs[key])
    return {key: (mean(values), pstdev(values)) for key, values in flat.items() if values}
