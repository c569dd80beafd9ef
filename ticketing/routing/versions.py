"""Trained topic models, versioned in the database with their evaluation.

`train` cross-validates the new model on its training questions (every fit inside the training
folds, see training.py), fits it on all of them and stores both. It becomes active only when its
cross-validated accuracy + macro-F1 beat the active model's (or, with none active, the keyword
rules' in the same folds); otherwise it is kept as a candidate, and `activate` can still choose it
by hand. `rollback` returns to the model that was active before the current one (or to the rules
alone). The router of a running service picks up the active model within `RELOAD_SECONDS`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import RoutingLabel, RoutingModel
from ticketing.domain.errors import InvalidInput, NotFound, UnroutableText
from ticketing.domain.routing import KeywordRouter
from ticketing.domain.routing.features import text_features
from ticketing.routing.model import TopicModel
from ticketing.routing.training import Example, cross_validate, fit, model_contender, summary

logger = logging.getLogger(__name__)

ACTIVE, CANDIDATE, RETIRED = "active", "candidate", "retired"
RELOAD_SECONDS = 30
#: The figures a new model must beat, summed (both forced choice, over the natural rows).
COMPARED = ("accuracy", "macro_f1")
MIN_EXAMPLES = 20


@dataclass
class TrainingSet:
    examples: list[Example]
    #: The keyword rules' forced choice per example, their confidence, and whether they would route it.
    rules: list[tuple[str, float, bool]]
    skipped: int  # empty texts, unknown categories


def training_set(router: KeywordRouter, items: Iterable[tuple[str, str, bool]]) -> TrainingSet:
    """Examples from (text, category, natural) triples; texts with nothing to read and categories
    the rules do not know are skipped and counted."""
    known = router.classifier.categories()
    examples, rules, skipped = [], [], 0
    for text, label, natural in items:
        if label not in known:
            skipped += 1
            continue
        try:
            _, _, tokens, matches = router.analyse(text)
        except UnroutableText:
            skipped += 1
            continue
        examples.append(Example(text_features(tokens, matches), label, natural))
        c = router.classifier.classify(matches)
        rules.append((c.category, c.confidence, not c.needs_triage))
    return TrainingSet(examples, rules, skipped)


def from_tickets(session: Session, router: KeywordRouter) -> TrainingSet:
    """People's decisions: the latest per ticket (a correction replaces what it corrects)."""
    latest: dict[Any, RoutingLabel] = {}
    for label in session.scalars(select(RoutingLabel).order_by(RoutingLabel.id)):
        latest[label.ticket_id if label.ticket_id is not None else ("label", label.id)] = label
    return training_set(router, ((label.text, label.category, True) for label in latest.values()))


def read_jsonl(lines: Iterable[str], natural_subset: str | None = None) -> list[tuple[str, str, bool]]:
    """(text, category, natural) from lines {"text": ..., "label" (or "category"): ...}; with
    `natural_subset`, only rows whose "subset" is that name count as the natural class mix (the
    others teach words only). A bad line stops the reading with its number."""
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number}: not valid JSON: {exc}", line=number) from None
        label = row.get("label", row.get("category")) if isinstance(row, dict) else None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not isinstance(label, str):
            raise InvalidInput(f'line {number}: expected {{"text": "...", "label": "..."}}', line=number)
        natural = natural_subset is None or row.get("subset") == natural_subset
        items.append((row["text"], label, natural))
    return items


def _rules_contender(rules: Sequence[tuple[str, float, bool]]):  # type: ignore[no-untyped-def]
    def run(train: np.ndarray, test: np.ndarray):  # type: ignore[no-untyped-def]
        chosen = [rules[i] for i in test]
        return [c[0] for c in chosen], [c[1] for c in chosen], [c[2] for c in chosen]

    return run


def _score(figures: dict[str, Any]) -> float:
    return sum(figures[name][0] for name in COMPARED)


@dataclass
class Outcome:
    model: RoutingModel
    activated: bool
    reason: str


def train(
    session: Session,
    data: TrainingSet,
    source: str,
    now: datetime,
    *,
    target_precision: float = 0.9,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    n_jobs: int = 1,
    activate_if_better: bool = True,
) -> Outcome:
    examples = data.examples
    if len(examples) < MIN_EXAMPLES:
        raise InvalidInput(
            f"太少 / too few labelled questions to train on: {len(examples)} (at least {MIN_EXAMPLES})",
            rows=len(examples),
        )
    results = cross_validate(
        examples,
        {"model": model_contender(examples, target_precision, seed), "rules": _rules_contender(data.rules)},
        folds=folds,
        repeats=repeats,
        target_precision=target_precision,
        seed=seed,
    )
    figures = {name: summary(runs) for name, runs in results.items()}
    model = fit(examples, target_precision, seed=seed, n_jobs=n_jobs)
    version = f"{now:%Y%m%d-%H%M%S}"
    model.version = version
    active = active_row(session)
    if active is not None:
        against, compared_with = active.evaluation["figures"]["model"], f"model {active.version}"
    else:
        against, compared_with = figures["rules"], "keyword rules (same folds)"
    better = _score(figures["model"]) > _score(against)
    evaluation = {
        "figures": figures,
        "folds": folds,
        "repeats": repeats,
        "rows": len(examples),
        "natural_rows": sum(e.natural for e in examples),
        "skipped": data.skipped,
        "target_precision": target_precision,
        "threshold": model.threshold,
        "held_out_coverage": model.coverage,
        "fit_seconds": model.info["fit_seconds"],
        "compared_with": compared_with,
        "compared_figures": {name: against[name] for name in COMPARED},
        "better": better,
    }
    row = RoutingModel(
        version=version,
        created_at=now,
        source=source[:200],
        rows=len(examples),
        status=CANDIDATE,
        evaluation=evaluation,
        blob=model.to_bytes(),
    )
    session.add(row)
    session.flush()
    if better and activate_if_better:
        activate(session, row, now)
        return Outcome(row, True, f"better than {compared_with}: activated")
    why = f"not better than {compared_with}" if not better else "better, but not activated (--no-activate)"
    return Outcome(row, False, why + ": kept as a candidate")


def active_row(session: Session) -> RoutingModel | None:
    return session.scalar(select(RoutingModel).where(RoutingModel.status == ACTIVE))


def find(session: Session, version: str) -> RoutingModel:
    row = session.scalar(select(RoutingModel).where(RoutingModel.version == version))
    if row is None:
        raise NotFound(f"未知模型 / no model {version}", version=version)
    return row


def activate(session: Session, row: RoutingModel, now: datetime) -> RoutingModel | None:
    """Make `row` the active model; returns the one it replaces."""
    current = active_row(session)
    if current is not None and current.id == row.id:
        return None
    if current is not None:
        current.status = RETIRED
        session.flush()  # one active model at a time, even mid-transaction
    row.status = ACTIVE
    row.previous_id = current.id if current is not None else None
    row.activated_at = now
    logger.info("routing model %s activated (was %s)", row.version, current.version if current else "rules alone")
    return current


def rollback(session: Session, now: datetime) -> RoutingModel | None:
    """Retire the active model and return to the one before it; None: the rules alone now."""
    current = active_row(session)
    if current is None:
        raise InvalidInput("没有启用的模型 / no model is active: the keyword rules decide already")
    current.status = RETIRED
    session.flush()
    previous = session.get(RoutingModel, current.previous_id) if current.previous_id else None
    if previous is not None:
        previous.status = ACTIVE
        previous.activated_at = now
    logger.info("routing model %s rolled back to %s", current.version, previous.version if previous else "rules alone")
    return previous


def load_active(session: Session, target_precision: float | None = None) -> TopicModel | None:
    row = active_row(session)
    if row is None:
        return None
    try:
        model = TopicModel.from_bytes(row.blob)
    except ValueError as exc:  # e.g. a model stored in an older format: the rules decide meanwhile
        logger.warning("routing model %s cannot be read (%s): train again; the keyword rules decide", row.version, exc)
        return None
    return model.with_target(target_precision) if target_precision else model


def models(session: Session) -> list[RoutingModel]:
    return list(session.scalars(select(RoutingModel).order_by(RoutingModel.id.desc())))
