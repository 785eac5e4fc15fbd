"""Cross-validate the NLU model and write the intent and entity scores to docs/nlu_evaluation.md.

Runs ``rasa test nlu --cross-validation`` (one training per fold: slow, about
``folds`` times a training run, so it is not part of ``make test``) and turns
Rasa's JSON reports into a Markdown table of precision, recall and F1.

    .venv/bin/python scripts/evaluate_nlu.py --folds 3 --heldout-model models/rasa/daogou.tar.gz

Cross-validation scores examples written by the same hands as the training data, and the data was
grown by reading its errors, so the doc also scores a trained model on ``tests/nlu/heldout_messages.yml``:
messages written separately, never trained on. ``--skip-cross-validation`` refreshes only that part
(the cross-validation tables are rebuilt from the reports already in ``--out``).

Real people's messages (``tests/nlu/devset``, ``docs/nlu_devset.md``) are the check that matters most:

    .venv/bin/python scripts/evaluate_nlu.py --devset-only --devset-model models/rasa/daogou.tar.gz --devset-label old

parses every dev row with the model in-process, reads it as the recommendation action does, writes
``benchmarks/results/nlu_devset/<label>.json`` and refreshes only the dev-set section of the doc, which
shows every saved label (the old design and the new) side by side. ``--devset-model`` alone implies
``--devset-only``. A full run (cross-validation, ``--heldout-model``) rewrites the doc from the generated
cross-validation header down, keeping what people wrote above it, and rebuilds the dev-set section from the
saved results.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script: the dev-set modules, actions/ and recsys/ import from here
from scripts import devset_evaluation  # noqa: E402
from scripts.nlu_devset import DevsetError, load_devset  # noqa: E402

RASA = Path(sys.executable).with_name("rasa")
SUMMARY_ROWS = ("micro avg", "macro avg", "weighted avg")
HELDOUT_MESSAGES = PROJECT_ROOT / "tests" / "nlu" / "heldout_messages.yml"
REPORTS = (("intent_report.json", "Intents"), ("DIETClassifier_report.json", "Entities (DIET)"),
           ("response_selection_report.json", "FAQ answers (ResponseSelector)"))


def table(report: Dict[str, Dict[str, float]], title: str) -> List[str]:
    """Markdown rows for every label of a Rasa report, then the averages."""
    labels = sorted(k for k, v in report.items() if isinstance(v, dict) and k not in SUMMARY_ROWS)
    lines = [f"### {title}", "", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in [*labels, *[r for r in SUMMARY_ROWS if r in report]]:
        row = report[label]
        name = f"**{label}**" if label in SUMMARY_ROWS else label
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | {int(row['support'])} |")
    if "accuracy" in report:
        lines.append(f"| **accuracy** | | | {report['accuracy']:.3f} | |")
    return lines + [""]


def accuracy_by_file(errors: Path, nlu_dir: Path) -> List[str]:
    """Held-out intent accuracy of each training file: where the hard examples are, and what a new file adds."""
    from rasa.shared.nlu.training_data.loading import load_data

    missed = {error["text"] for error in json.loads(errors.read_text(encoding="utf-8"))}
    lines = ["### Intents by training file", "", "| file | examples | missed | accuracy |", "|---|---|---|---|"]
    for path in sorted(nlu_dir.glob("*.yml")):
        texts = [message.get("text") for message in load_data(str(path)).intent_examples]
        if texts:
            wrong = sum(text in missed for text in texts)
            lines.append(f"| {path.name} | {len(texts)} | {wrong} | {1 - wrong / len(texts):.3f} |")
    return lines + [""]


def reports(folder: Path) -> List[str]:
    """Tables for the Rasa reports that a test run left in `folder`."""
    lines: List[str] = []
    for name, title in REPORTS:
        path = folder / name
        if path.exists():
            lines += table(json.loads(path.read_text(encoding="utf-8")), title)
    return lines


def written_above(doc: Path) -> List[str]:
    """Everything above the generated cross-validation header (the title and the sections people wrote, such as
    the design comparison): a full rewrite keeps it, and starts a new doc with a title."""
    if not doc.exists():
        return ["# NLU evaluation", ""]
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("`rasa test nlu")), None)
    return lines[:start] if start else lines + [""]


def hand_written_notes(doc: Path) -> List[str]:
    """The paragraphs people wrote between the generated header and the tables: kept across runs."""
    if not doc.exists():
        return []
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("`rasa test nlu")), None)
    end = next((i for i, line in enumerate(lines) if line.startswith("### ")), len(lines))
    if start is None:
        return []
    notes = lines[start + 1:end]
    while notes and not notes[0].strip():
        notes.pop(0)
    return [*notes, ""] if notes else []


def score_devset(model: Path, label: str, datasets: Path | None) -> None:
    """Parse the dev set with ``model``, save the figures as ``label``, and print the headline ones."""
    if not model.is_file():
        raise FileNotFoundError(f"{model}: no such model (train one, or pass the path of a .tar.gz)")
    rows = load_devset(root=datasets)
    predictions = devset_evaluation.read_predictions(devset_evaluation.parse_rows(model, rows))
    report = devset_evaluation.score(rows, predictions, label, model)
    path = devset_evaluation.save(report)
    for name in devset_evaluation.SUMMARY:
        print(f"{name:45} {report.ratio(name).cell()}")
    print(f"parse p50 {report.latency_ms['p50']} ms; wrote {path.relative_to(PROJECT_ROOT)}")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "nlu_evaluation")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "nlu_evaluation.md")
    parser.add_argument("--heldout-model", type=Path,
                        help="a model trained on all of data/nlu (make models): also score it on the held-out messages")
    parser.add_argument("--skip-cross-validation", action="store_true")
    parser.add_argument("--devset-model", type=Path, help="a trained model to score on the real-utterance dev set")
    parser.add_argument("--devset-label", default="new",
                        help="name of the design scored (old, new ...): its results file and column in the doc")
    parser.add_argument("--devset-only", action="store_true",
                        help="only refresh the dev-set section of --doc from the saved results (after scoring --devset-model if given)")
    parser.add_argument("--datasets", type=Path, help="folder holding nlu-real/ (default: $DAOGOU_DATASETS or ../shared/datasets)")
    args = parser.parse_args(argv)
    if args.devset_model and not args.heldout_model:
        args.devset_only = True  # scoring a model on the dev set does not rerun the cross-validation
    if args.devset_model:
        try:
            score_devset(args.devset_model, args.devset_label, args.datasets)
        except (DevsetError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if args.devset_only:
        doc = args.doc.read_text(encoding="utf-8") if args.doc.exists() else "# NLU evaluation\n"
        args.doc.write_text(devset_evaluation.replace_section(doc, devset_evaluation.markdown(
            devset_evaluation.load_reports())), encoding="utf-8")
        print(f"wrote the dev-set section of {args.doc}")
        return 0
    if not args.skip_cross_validation:
        subprocess.run([str(RASA), "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml", "--cross-validation",
                        "--folds", str(args.folds), "--out", str(args.out)], cwd=PROJECT_ROOT, check=True)
    heldout_out = args.out / "heldout"
    if args.heldout_model:
        subprocess.run([str(RASA), "test", "nlu", "--nlu", str(HELDOUT_MESSAGES), "--model", str(args.heldout_model),
                        "--out", str(heldout_out)], cwd=PROJECT_ROOT, check=True)
        trained = datetime.fromtimestamp(args.heldout_model.stat().st_mtime, timezone.utc)
        (heldout_out / "tested_model.json").write_text(json.dumps(
            {"model": args.heldout_model.name, "trained": f"{trained:%Y-%m-%d %H:%M} UTC"}), encoding="utf-8")
    lines = [*written_above(args.doc),
             f"`rasa test nlu --cross-validation --folds {args.folds}` on `data/nlu`, written by `scripts/evaluate_nlu.py` "
             f"on {datetime.now(timezone.utc):%Y-%m-%d}. Scores are on the held-out fold of each split.", "",
             *hand_written_notes(args.doc)]
    lines += reports(args.out)
    if (args.out / "intent_errors.json").exists():
        lines += accuracy_by_file(args.out / "intent_errors.json", PROJECT_ROOT / "data" / "nlu")
    if (heldout_out / "intent_report.json").exists():
        tested = json.loads((heldout_out / "tested_model.json").read_text(encoding="utf-8"))
        lines += ["## Independent test messages", "",
                  f"`{tested['model']}` (trained {tested['trained']}, on all of `data/nlu`) scored on "
                  f"`{HELDOUT_MESSAGES.relative_to(PROJECT_ROOT)}`: messages written apart from the training data "
                  "by someone who did not see its errors, and never trained on.", "",
                  *reports(heldout_out)]
    lines += devset_evaluation.markdown(devset_evaluation.load_reports())
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
