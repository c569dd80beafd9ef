"""Router quality and speed: the keyword router against a TF-IDF + LinearSVC baseline.

    .venv/bin/python scripts/bench_router.py [--quick]

Reads ../shared/data/legal_questions_dev.jsonl in place (skips the quality part when it is
absent). Headline figures are on the `crimekg_13cls` subset's fixed test split (one row in five,
by a hash of the row id; see scripts/_router_data.py); the baseline is trained on the rest of that
subset, as in the data's README. The router's figures count its best category even when it asks
for triage (the baseline always guesses too); triage rate and accuracy of what it did decide are
printed beside. Then throughput on 40-character texts, one core, and the one-time load time.
Needs scikit-learn (dev dependency).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _router_data import REPO, find_data, load_rows, split


def _cell(label: str, width: int = 10) -> str:
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    return label + " " * max(0, width - sum(2 if ord(c) > 0x2E80 else 1 for c in label))


def report(name: str, gold: list[str], predicted: list[str], labels: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    accuracy = accuracy_score(gold, predicted)
    macro = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    print(f"\n== {name}: accuracy {accuracy:.3f}, macro-F1 {macro:.3f} ({len(gold)} questions)")
    p, r, f, n = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    print(f"{'category':<10}{'prec':>6}{'recall':>7}{'F1':>6}{'n':>5}")
    for i, label in enumerate(labels):
        print(f"{_cell(label)}{p[i]:6.2f}{r[i]:7.2f}{f[i]:6.2f}{n[i]:5d}")
    shown = labels + sorted(set(predicted) - set(labels))
    matrix = confusion_matrix(gold, predicted, labels=shown)
    print("confusion: rows are labels, columns predictions (first two characters)")
    print(" " * 10 + "".join(f" {label[:2]}" for label in shown))
    for i, label in enumerate(labels):
        print(_cell(label) + "".join(f"{v:5d}" for v in matrix[i]))
    return accuracy, macro


def quality(router) -> None:
    data = find_data()
    if data is None:
        print("labelled questions not found (../shared/data/legal_questions_dev.jsonl): quality part skipped")
        return
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    train, test, _other = split(load_rows(data))
    labels = [label for label, _ in Counter(r["label"] for r in train + test).most_common()]
    gold = [r["label"] for r in test]
    decisions = [router.route(r["text"]) for r in test]
    best = [d.classification.category for d in decisions]
    acc, f1 = report("keyword router (best category)", gold, best, labels)
    decided = [(g, d.category) for g, d in zip(gold, decisions, strict=True) if d.category != "needs_triage"]
    right = sum(g == c for g, c in decided)
    print(
        f"triage rate {1 - len(decided) / len(gold):.3f};"
        f" accuracy on the {len(decided)} decided: {right / max(len(decided), 1):.3f}"
    )

    tokenizer = jieba.Tokenizer()
    vectorizer = TfidfVectorizer(
        tokenizer=lambda s: tokenizer.lcut(s), token_pattern=None, lowercase=False, sublinear_tf=True
    )
    svm = LinearSVC(C=0.5)
    svm.fit(vectorizer.fit_transform([r["text"] for r in train]), [r["label"] for r in train])
    base = list(svm.predict(vectorizer.transform([r["text"] for r in test])))
    bacc, bf1 = report("TF-IDF (jieba words) + LinearSVC, trained on the headline train split", gold, base, labels)
    print(
        f"\nrouter - baseline: accuracy {acc - bacc:+.3f}, macro-F1 {f1 - bf1:+.3f}"
        f" (train {len(train)}, test {len(test)})"
    )


def throughput(router, quick: bool) -> None:
    data = find_data()
    rng = random.Random(12348)
    if data is not None:
        texts = [r["text"][:40] for r in load_rows(data) if len(r["text"]) >= 40]
        rng.shuffle(texts)
        texts = texts[:2000]
    else:
        texts = ["我在乐至县石佛镇打工老板拖欠了我们二十多个工人三个月的工资不给怎么办"[:40]] * 2000
    rounds = 1 if quick else 9
    tokenizer = router.segment.tokenizer
    cpu: list[float] = []
    wall: list[float] = []
    reference: list[float] = []
    # Passes alternate with passes of jieba's own precise cut (no HMM) of the same texts, so the
    # reference sees the same machine: on a shared machine the absolute figure moves with the load.
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        for text in texts:
            router.route(text)
        wall.append(len(texts) / (time.perf_counter() - started))
        cpu.append(len(texts) / (time.process_time() - started_cpu))
        started_cpu = time.process_time()
        for text in texts:
            tokenizer.lcut(text, HMM=False)
        reference.append(len(texts) / (time.process_time() - started_cpu))
    print(
        f"\nthroughput over {len(texts)} 40-character texts, one process, one thread, {rounds} passes:"
        f" best {max(cpu):,.0f} / median {statistics.median(cpu):,.0f} per CPU-second"
        f" (best {max(wall):,.0f} per wall-clock second)"
    )
    print(
        f"reference: jieba.lcut(HMM=False) alone on the same texts, passes in between:"
        f" best {max(reference):,.0f} / median {statistics.median(reference):,.0f} per CPU-second"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one throughput pass")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from hotline.bootstrap import build_router
    from settings.files import load_config

    started = time.perf_counter()
    router = build_router(load_config(REPO / "config"))
    print(f"router load (config, jieba dictionary + routing words, phone data): {time.perf_counter() - started:.2f} s")
    if not args.skip_quality:
        quality(router)
    throughput(router, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
