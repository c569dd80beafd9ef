"""Router quality (cross-validated) and speed.

    nice -n 10 .venv/bin/python scripts/bench_router.py [--folds 5] [--repeats 2] [--quick] [--json FILE]

Quality: repeated stratified k-fold cross-validation over every labelled question in
../shared/data/legal_questions_dev.jsonl (read in place). In each split, on the same folds:
- the router as deployed with a learned model: the overrides of routing.yaml where they apply,
  elsewhere the model (ticketing/routing/training.py) fitted on the training folds, its
  calibration, forced choice and triage threshold fitted inside them too (inner folds);
- the baseline: TF-IDF over jieba words (uni+bigrams) + LinearSVC, trained on the training folds'
  `crimekg_13cls` rows (as in the data's README; trained on all training rows it scores lower);
- the keyword rules alone, overrides included (config/routing.yaml). Their weights were fitted by
  scripts/tune_router.py on most of these rows, so their figures are optimistic, not held out.
Figures are measured on the test folds' `crimekg_13cls` rows (the natural class mix), over its
13 labels: mean ± standard deviation over folds x repeats. Forced choice: the best category even
when the router would ask for triage. Coverage at P: the largest share of questions that can be
auto-routed, ranked by confidence, with precision >= P on the test fold; triage rate and routed
accuracy use the threshold chosen on the training folds. `--json FILE` also writes every contender's
figures per test fold (in fold order, so two runs pair fold by fold).

Crisis: recall and false alarms on tests/routing_crisis_set.yaml (our own sentences).
Speed: single-text decisions (router.route, with and without the model, the model loaded from its
stored bytes as the services load it), batch scoring, and the time to train on all rows. Needs
scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from _router_data import HEADLINE, REPO, find_data, load_rows

CRISIS_SET = REPO / "tests" / "routing_crisis_set.yaml"


def _cell(label: str, width: int = 10) -> str:
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    return label + " " * max(0, width - sum(2 if ord(c) > 0x2E80 else 1 for c in label))


def _pm(stats: dict, key: str) -> str:
    if key not in stats:
        return "-"
    m, s = stats[key]
    return f"{m:.3f} ± {s:.3f}"


def baseline(texts: list[str], labels: list[str], natural: np.ndarray):
    import rjieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    cut = rjieba.Jieba()
    docs = []
    for text in texts:
        words = cut.cut(text, True)  # jieba's default precise cut (with HMM), as jieba.lcut
        docs.append(words + [a + " " + b for a, b in itertools.pairwise(words)])
    y = np.array(labels)

    def run(train: np.ndarray, test: np.ndarray):
        rows = train[natural[train]]
        vectorizer = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True)
        svm = LinearSVC(C=0.5).fit(vectorizer.fit_transform([docs[i] for i in rows]), y[rows])
        return list(svm.predict(vectorizer.transform([docs[i] for i in test]))), None, None

    return run


def with_overrides(inner, overridden: dict[int, str]):
    """The router as deployed: where an override applies it decides, the model elsewhere."""

    def run(train: np.ndarray, test: np.ndarray):
        predicted, confidence, threshold = inner(train, test)
        predicted, confidence = list(predicted), list(confidence)
        routed = [c >= threshold for c in confidence]
        for j, i in enumerate(test.tolist()):
            if i in overridden:
                predicted[j], confidence[j], routed[j] = overridden[i], 1.0, True
        return predicted, confidence, routed

    return run


def keyword_rules(router, texts: list[str]):
    model, router.model = router.model, None
    decisions = [router.route(t) for t in texts]
    router.model = model

    def run(train: np.ndarray, test: np.ndarray):
        chosen = [decisions[i].classification for i in test]
        return [c.category for c in chosen], [c.confidence for c in chosen], [not c.needs_triage for c in chosen]

    return run


def quality(router, rows: list[dict], folds: int, repeats: int, target: float, dump: Path | None = None) -> None:
    from ticketing.domain.routing.features import text_features
    from ticketing.routing.training import Example, cross_validate, model_contender, summary

    started = time.perf_counter()
    examples = []
    overridden: dict[int, str] = {}
    for i, r in enumerate(rows):
        _, _, tokens, matches = router.analyse(r["text"])
        examples.append(Example(text_features(tokens, matches), r["label"], r["subset"] == HEADLINE))
        ruled = router.classifier.override(matches)
        if ruled is not None:
            overridden[i] = ruled.category
    print(f"features of {len(rows)} questions: {time.perf_counter() - started:.1f} s")
    hits = sum(1 for i in overridden if examples[i].natural)
    right = sum(1 for i, c in overridden.items() if examples[i].natural and examples[i].label == c)
    print(f"overrides (routing.yaml) apply to {hits} {HEADLINE} questions; their label agrees on {right}")
    texts = [r["text"] for r in rows]
    natural = np.array([e.natural for e in examples])
    labels = sorted({e.label for e in examples if e.natural})
    contenders = {
        "model": with_overrides(model_contender(examples, target), overridden),
        "baseline": baseline(texts, [e.label for e in examples], natural),
        "rules": keyword_rules(router, texts),
    }
    names = {
        "model": "router: overrides, then learned model (calibrated)",
        "baseline": "TF-IDF jieba uni+bigrams + LinearSVC",
        "rules": "keyword rules alone (weights tuned on these data)",
    }
    results = cross_validate(
        examples, contenders, folds, repeats, target, labels, progress=lambda m: print(m, flush=True)
    )
    stats = {name: summary(runs) for name, runs in results.items()}
    if dump is not None:
        dump.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    n_test = int(natural.sum())
    print(f"\n{folds}-fold x {repeats} stratified CV over {len(rows)} questions; measured on the {n_test}")
    print(f"{HEADLINE} rows (each once per repeat), 13 labels; mean ± sd over {folds * repeats} test folds")
    print(f"\n| | accuracy | macro-F1 | coverage at P={target:.2f} | triage rate | routed accuracy |")
    print("|---|---|---|---|---|---|")
    for name, s in stats.items():
        cells = [_pm(s, k) for k in ("accuracy", "macro_f1", "coverage_at_target", "triage_rate", "routed_accuracy")]
        print(f"| {names[name]} | " + " | ".join(cells) + " |")
    m, b = stats["model"], stats["baseline"]
    print(
        f"\nmodel - baseline (same folds): accuracy {m['accuracy'][0] - b['accuracy'][0]:+.3f},"
        f" macro-F1 {m['macro_f1'][0] - b['macro_f1'][0]:+.3f}"
    )
    print("\nper class, forced choice (mean over folds): precision / recall")
    print(f"{'category':<10}  {'model':>13}  {'baseline':>13}  {'rules':>13}")
    for label in labels:
        cells = [f"{s[f'precision:{label}'][0]:.2f} / {s[f'recall:{label}'][0]:.2f}" for s in (m, b, stats["rules"])]
        print(_cell(label) + "  " + "  ".join(f"{c:>13}" for c in cells))
    confusion: dict[str, int] = {}
    for run in results["model"]:
        for pair, n in run["confusion"].items():
            confusion[pair] = confusion.get(pair, 0) + n
    print(f"\nmodel's mistakes for the weakest classes (summed over {folds * repeats} test folds): gold > chosen")
    for label in labels:
        if min(m[f"precision:{label}"][0], m[f"recall:{label}"][0]) >= 0.5:
            continue
        missed = sorted(((n, p.split(">")[1]) for p, n in confusion.items() if p.startswith(label + ">")), reverse=True)
        taken = sorted(((n, p.split(">")[0]) for p, n in confusion.items() if p.endswith(">" + label)), reverse=True)
        print(f"  {label}: taken for " + ", ".join(f"{c} {n}" for n, c in missed[:4]))
        print(f"  {'':{len(label) * 2}}  chosen instead of " + ", ".join(f"{c} {n}" for n, c in taken[:4]))
    fit_times = [r["seconds"] for r in results["model"]]
    print(f"\nmodel fit + scoring per fold: {statistics.median(fit_times):.1f} s median (one core)")


def crisis(router) -> None:
    cases = yaml.safe_load(CRISIS_SET.read_text(encoding="utf-8"))
    found = [t for t in cases["crisis"] if router.route(t).crisis]
    alarms = [t for t in cases["not_crisis"] if router.route(t).crisis]
    print(
        f"\ncrisis set (written by us, {CRISIS_SET.relative_to(REPO)}): recall {len(found)}/{len(cases['crisis'])}"
        f" = {len(found) / len(cases['crisis']):.3f}; false alarms {len(alarms)}/{len(cases['not_crisis'])}"
    )
    for text in cases["crisis"]:
        if text not in found:
            print(f"  missed: {text}")


def speed(router, rows: list[dict], quick: bool) -> None:
    from ticketing.domain.routing.features import text_features
    from ticketing.routing.model import TopicModel
    from ticketing.routing.training import Example, fit

    started = time.perf_counter()
    examples = []
    for r in rows:
        _, _, tokens, matches = router.analyse(r["text"])
        examples.append(Example(text_features(tokens, matches), r["label"], r["subset"] == HEADLINE))
    featured = time.perf_counter() - started
    for jobs in (1, 2):
        model = fit(examples, n_jobs=jobs)
        print(
            f"\ntraining on all {len(examples)} questions, n_jobs={jobs}: features {featured:.1f} s"
            f" + fit {model.info['fit_seconds']:.1f} s wall clock, {model.info['fit_cpu_seconds']:.1f} s CPU"
            " (all threads; shared machine)"
        )
    # Timed as the services run it: loaded from its stored bytes (versions.load_active), not the
    # object training left behind among the training rows' strings (slower in 3 of 4 alternating
    # passes in one process, by up to a fifth).
    model = TopicModel.from_bytes(model.to_bytes())
    rng = random.Random(12348)
    texts = [r["text"][:40] for r in rows if len(r["text"]) >= 40]
    rng.shuffle(texts)
    texts = texts[:2000]
    rounds = 1 if quick else 5
    for label, with_model in (("rules alone", None), ("rules + model", model)):
        router.use_model(with_model)
        cpu = []
        for _ in range(rounds):
            started = time.process_time()
            for text in texts:
                router.route(text)
            cpu.append(len(texts) / (time.process_time() - started))
        print(
            f"single-text router.route, {label}, {len(texts)} 40-character texts, one thread:"
            f" best {max(cpu):,.0f} / median {statistics.median(cpu):,.0f} decisions per CPU-second"
        )
    analysed = [router.analyse(t) for t in texts]
    docs = [text_features(tokens, matches) for _, _, tokens, matches in analysed]
    cpu = []
    for _ in range(rounds):
        started = time.process_time()
        model.predict_batch(docs)
        cpu.append(len(docs) / (time.process_time() - started))
    print(
        f"batch model scoring (features given): best {max(cpu):,.0f} / median {statistics.median(cpu):,.0f} per CPU-s"
    )
    cpu = []
    for _ in range(rounds):
        started = time.process_time()
        for text in texts:
            _, _, tokens, matches = router.analyse(text)
            text_features(tokens, matches)
        cpu.append(len(texts) / (time.process_time() - started))
    print(f"cut + rule words + features alone: median {statistics.median(cpu):,.0f} per CPU-second")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--target", type=float, default=None, help="auto-route precision (default: routing.yaml)")
    parser.add_argument("--quick", action="store_true", help="one repeat, one speed pass")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the per-fold quality figures to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from hotline.bootstrap import build_router
    from settings.files import load_config

    started = time.perf_counter()
    config = load_config(REPO / "config")
    router = build_router(config)
    print(f"router load (config, jieba dictionary + routing words, phone data): {time.perf_counter() - started:.2f} s")
    target = args.target or config.routing.target_precision
    crisis(router)
    data = find_data()
    if data is None:
        print("labelled questions not found (../shared/data/legal_questions_dev.jsonl): quality and speed skipped")
        return 0
    rows = load_rows(data)
    if not args.skip_quality:
        quality(router, rows, args.folds, 1 if args.quick else args.repeats, target, args.json)
    if not args.skip_speed:
        speed(router, rows, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
