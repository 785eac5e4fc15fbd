"""Score a trained Rasa model on the real-utterance dev set, end to end.

Every dev row is parsed in-process (``Agent.load`` once, then ``agent.parse_message`` per row, so
the figures include no HTTP), and the parse goes through the same reading the recommendation
action does (``actions.shopper_request.stated_in``: NLU entities first, then the alias table over
the text), so "category resolved" means what the shopper would get, not what the tagger tagged.

Results go to ``benchmarks/results/nlu_devset/<label>.json`` (one file per design: ``old``,
``new`` ...: the doc shows them side by side) and to a section of ``docs/nlu_evaluation.md``.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from scripts.nlu_devset import PROJECT_ROOT, DevRow, short

RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "nlu_devset"
SECTION = "## Real-utterance development set"
#: Predictions that decline the message: the assistant says it cannot help, or did not understand.
REJECTIONS = frozenset({"out_of_scope", "nlu_fallback"})
#: What issue 17 asks of the new design, for the summary table.
TARGETS = {"intent accuracy, en": ">= 0.92", "intent accuracy, zh": ">= 0.92", "out-of-scope recall": ">= 0.90",
           "category resolved end to end": ">= 0.92", "brand resolved end to end": ">= 0.90",
           "in-scope rejected": "rare"}


@dataclass(frozen=True)
class Prediction:
    """What the model and the action's reading made of one dev row."""

    id: str
    intent: str  # the parse's intent (nlu_fallback when the FallbackClassifier fired)
    confidence: float
    category: Optional[str]  # end to end: what the recommendation action reads from the parse and the text
    brand: Optional[str]
    nlu_category: Optional[str]  # the parse's own category entity, mapped to a canonical id when it can be
    nlu_brand: Optional[str]
    parse_ms: float


def parse_rows(model: Path, rows: Sequence[DevRow]) -> List[Tuple[DevRow, Dict[str, Any], float]]:
    """(row, parse result, milliseconds) for every row, with the model loaded once in this process."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per message

    async def run() -> List[Tuple[DevRow, Dict[str, Any], float]]:
        agent = Agent.load(str(model))
        await agent.parse_message("warm up")  # the first parse builds lazily created parts
        parsed = []
        for row in rows:
            start = time.perf_counter()
            result = await agent.parse_message(row.text)
            parsed.append((row, result, (time.perf_counter() - start) * 1000))
        return parsed

    return asyncio.run(run())


def read_predictions(parsed: Iterable[Tuple[DevRow, Dict[str, Any], float]]) -> List[Prediction]:
    """Apply the recommendation action's reading to each parse."""
    from actions.shopper_request import stated_in
    from recsys import Catalog, Settings

    settings = Settings.from_env()
    catalog = Catalog.load(settings.catalog_path, settings.aliases_path)

    def entity(result: Dict[str, Any], kind: str) -> Optional[str]:
        for item in result.get("entities") or []:
            if item.get("entity") == kind:
                value = str(item.get("value"))
                return catalog.aliases.resolve(kind, value) or value
        return None

    predictions = []
    for row, result, ms in parsed:
        stated = stated_in({**result, "text": row.text}, catalog)
        intent = result.get("intent") or {}
        predictions.append(Prediction(
            id=row.id, intent=intent.get("name") or "", confidence=round(float(intent.get("confidence") or 0.0), 4),
            category=stated.category, brand=stated.brand, nlu_category=entity(result, "category"),
            nlu_brand=entity(result, "brand"), parse_ms=round(ms, 2)))
    return predictions


@dataclass(frozen=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> Optional[float]:
        return self.hits / self.total if self.total else None

    def cell(self) -> str:
        return "–" if not self.total else f"{self.value:.3f} ({self.hits}/{self.total})"


def _ratio(pairs: Iterable[bool]) -> Ratio:
    values = list(pairs)
    return Ratio(sum(values), len(values))


@dataclass
class DevsetReport:
    """Every figure issue 17 names, from one model's predictions."""

    label: str
    model: str
    model_trained: str
    evaluated: str
    rows: int
    figures: Dict[str, Dict[str, int]] = field(default_factory=dict)  # name -> {"hits", "total"}
    by_source: List[Dict[str, Any]] = field(default_factory=list)
    by_intent: List[Dict[str, Any]] = field(default_factory=list)
    confusions: List[Dict[str, Any]] = field(default_factory=list)
    latency_ms: Dict[str, float] = field(default_factory=dict)
    machine: Dict[str, float] = field(default_factory=dict)  # cores and load average when parsed: latency depends on them
    predictions: List[Dict[str, Any]] = field(default_factory=list)

    def ratio(self, name: str) -> Ratio:
        figure = self.figures.get(name)
        return Ratio(figure["hits"], figure["total"]) if figure else Ratio(0, 0)


def _figures(pairs: Sequence[Tuple[DevRow, Prediction]]) -> Dict[str, Ratio]:
    """The headline figures over a set of (row, prediction) pairs."""
    in_scope = [(r, p) for r, p in pairs if r.intent != "out_of_scope"]
    figures = {
        "intent accuracy": _ratio(p.intent == r.intent for r, p in pairs),
        "out-of-scope recall": _ratio(p.intent in REJECTIONS for r, p in pairs if r.intent == "out_of_scope"),
        "out-of-scope recall (out_of_scope only)": _ratio(p.intent == "out_of_scope" for r, p in pairs
                                                          if r.intent == "out_of_scope"),
        "in-scope rejected": _ratio(p.intent in REJECTIONS for r, p in in_scope),
        "in-scope accuracy": _ratio(p.intent == r.intent for r, p in in_scope),
        "category resolved end to end": _ratio(p.category == r.category for r, p in pairs if r.category),
        "category in the parse": _ratio(p.nlu_category == r.category for r, p in pairs if r.category),
        "category read where none was named": _ratio(p.category is not None for r, p in pairs
                                                     if r.category is None and r.intent != "out_of_scope"),
        "brand resolved end to end": _ratio(p.brand == r.brand for r, p in pairs if r.brand),
        "brand in the parse": _ratio(p.nlu_brand == r.brand for r, p in pairs if r.brand),
        "brand read where none was named": _ratio(p.brand is not None for r, p in pairs
                                                  if r.brand is None and r.intent != "out_of_scope"),
    }
    return figures


def score(rows: Sequence[DevRow], predictions: Sequence[Prediction], label: str, model: Path) -> DevsetReport:
    """All the figures, per language, per source, per intent, and the commonest confusions."""
    by_id = {p.id: p for p in predictions}
    missing = [row.id for row in rows if row.id not in by_id]
    if missing:
        raise ValueError(f"no prediction for {len(missing)} dev rows, e.g. {missing[:3]}")
    pairs = [(row, by_id[row.id]) for row in rows]
    trained = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc) if model.exists() else None
    report = DevsetReport(label=label, model=model.name, model_trained=f"{trained:%Y-%m-%d %H:%M} UTC" if trained else "",
                          evaluated=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", rows=len(rows),
                          machine={"cores": os.cpu_count() or 0, "load_1min": round(os.getloadavg()[0], 2)})

    for scope, subset in [("all", pairs), *[(lang, [(r, p) for r, p in pairs if r.lang == lang]) for lang in ("en", "zh")]]:
        for name, ratio in _figures(subset).items():
            report.figures[name if scope == "all" else f"{name}, {scope}"] = {"hits": ratio.hits, "total": ratio.total}

    sources: Dict[str, List[Tuple[DevRow, Prediction]]] = defaultdict(list)
    for row, prediction in pairs:
        sources[row.source].append((row, prediction))
    for source, subset in sorted(sources.items()):
        figures = _figures(subset)
        report.by_source.append({"source": source, "lang": subset[0][0].lang, "rows": len(subset),
                                 **{name: asdict(figures[name]) for name in (
                                     "intent accuracy", "out-of-scope recall", "in-scope rejected",
                                     "category resolved end to end", "brand resolved end to end")}})

    gold = Counter(r.intent for r, _ in pairs)
    predicted = Counter(p.intent for _, p in pairs)
    for intent in sorted(set(gold) | set(predicted)):
        correct = sum(1 for r, p in pairs if r.intent == intent and p.intent == intent)
        report.by_intent.append({"intent": intent, "support": gold[intent], "predicted": predicted[intent],
                                 "correct": correct})

    confusions = Counter((r.intent, p.intent) for r, p in pairs if r.intent != p.intent)
    for (expected, got), count in confusions.most_common(15):
        example = next(r for r, p in pairs if r.intent == expected and p.intent == got)
        report.confusions.append({"expected": expected, "predicted": got, "count": count, "example": example.id,
                                  "example_text": short(example.text, 60)})

    times = sorted(p.parse_ms for _, p in pairs)
    report.latency_ms = {"p50": round(statistics.median(times), 2),
                         "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
                         "mean": round(statistics.fmean(times), 2)}
    report.predictions = [{"expected": {"intent": r.intent, "category": r.category, "brand": r.brand}, **asdict(p)}
                          for r, p in pairs]
    return report


def save(report: DevsetReport, folder: Path = RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.label}.json"
    path.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_reports(folder: Path = RESULTS) -> List[DevsetReport]:
    """Every saved report, ``old`` first, then the others in the order they were evaluated."""
    reports = [DevsetReport(**json.loads(path.read_text(encoding="utf-8"))) for path in sorted(folder.glob("*.json"))]
    return sorted(reports, key=lambda r: (r.label != "old", r.evaluated, r.label))


SUMMARY = ("intent accuracy, en", "intent accuracy, zh", "intent accuracy", "out-of-scope recall",
           "out-of-scope recall (out_of_scope only)", "in-scope rejected", "category resolved end to end",
           "category in the parse", "category read where none was named", "brand resolved end to end",
           "brand in the parse", "brand read where none was named")


def markdown(reports: Sequence[DevsetReport]) -> List[str]:
    """The doc's section: a side-by-side summary of every design, then the detail of each."""
    if not reports:
        return []
    lines = [SECTION, "",
             f"`scripts/evaluate_nlu.py --devset-model <model> --devset-label <label>` on the {reports[-1].rows} labelled "
             "rows of `tests/nlu/devset/devset.jsonl`: messages real people wrote to assistants and shops, never trained "
             "on (`docs/nlu_devset.md` says where they come from and how they are labelled). Each row is parsed "
             "in-process and read the way `action_recommend_products` reads it (`actions.shopper_request.stated_in`). "
             "A message is *rejected* when the parse says `out_of_scope` or `nlu_fallback`; out-of-scope recall "
             "counts both, the strict line only `out_of_scope`. Figures are hits / rows that have the label.", "",
             "| figure | target | " + " | ".join(f"{r.label} (`{r.model}` of {r.model_trained})" for r in reports) + " |",
             "|---|---|" + "---|" * len(reports)]
    for name in SUMMARY:
        lines.append(f"| {name} | {TARGETS.get(name, '')} | " + " | ".join(r.ratio(name).cell() for r in reports) + " |")
    lines.append("| parse latency in-process p50 / p95 (ms) | | "
                 + " | ".join(f"{r.latency_ms.get('p50', 0):.0f} / {r.latency_ms.get('p95', 0):.0f}" for r in reports) + " |")
    lines.append("| machine when parsed (cores, 1-minute load) | | "
                 + " | ".join(f"{r.machine['cores']:.0f}, {r.machine['load_1min']}" if r.machine else "not recorded"
                              for r in reports) + " |")
    lines += ["", "Latency here is a by-product, on whatever else the machine was doing; the load benchmark is the "
              "reference for speed. `docs/nlu_devset.md` discusses the misses.", ""]
    for report in reports:
        lines += _detail(report)
    return lines


def _detail(report: DevsetReport) -> List[str]:
    lines = [f"### {report.label}: by source", "",
             "| source | lang | rows | intent accuracy | out-of-scope recall | in-scope rejected | category e2e | brand e2e |",
             "|---|---|---|---|---|---|---|---|"]
    for s in report.by_source:
        cells = [Ratio(**s[name]).cell() for name in ("intent accuracy", "out-of-scope recall", "in-scope rejected",
                                                       "category resolved end to end", "brand resolved end to end")]
        lines.append(f"| {s['source']} | {s['lang']} | {s['rows']} | " + " | ".join(cells) + " |")
    lines += ["", f"### {report.label}: by intent", "", "| intent | rows | predicted | recall | precision |",
              "|---|---|---|---|---|"]
    for i in report.by_intent:
        recall = Ratio(i["correct"], i["support"]).cell()
        precision = Ratio(i["correct"], i["predicted"]).cell()
        lines.append(f"| {i['intent']} | {i['support']} | {i['predicted']} | {recall} | {precision} |")
    lines += ["", f"### {report.label}: commonest confusions", "", "| expected | predicted | rows | e.g. |", "|---|---|---|---|"]
    for c in report.confusions:
        text = c["example_text"].replace("|", "\\|")
        lines.append(f"| {c['expected']} | {c['predicted']} | {c['count']} | `{c['example']}` {text} |")
    return lines + [""]


def replace_section(doc: str, section: Sequence[str]) -> str:
    """``doc`` with its dev-set section replaced by ``section`` (appended when it has none).

    The section runs from its heading to the next heading of the same level, so refreshing the dev-set
    figures leaves the cross-validation tables, which take an hour to remake, as they are.
    """
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join([*lines, "", *section]).rstrip() + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *section, *lines[end:]]).rstrip() + "\n"
