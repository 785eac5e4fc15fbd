"""Benchmark results on disk: CSV (the record), markdown table and bar plot (for people).

The CSV is merged rather than overwritten, keyed by (split, model label), so a
slow model (EASE) can be run on its own later and still land in the same table.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path
from typing import Dict, List, Sequence

import pandas as pd

from recsys.evaluation.evaluator import EvaluationResult

KEY_COLUMNS = ["split", "model"]


def machine_info() -> Dict[str, str]:
    """Cores, memory and CPU model: timings mean little without them."""
    cpu = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 ** 2:.0f} GiB"
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory, "python": platform.python_version()}


def results_frame(results: Sequence[EvaluationResult]) -> pd.DataFrame:
    rows = []
    for result in results:
        row = {"split": result.split, "model": result.model, "n_evaluated": result.n_evaluated}
        row.update({name: round(value, 4) for name, value in result.metrics.items()})
        row["fit_seconds"] = round(result.fit_seconds, 1)
        row["score_seconds"] = round(result.score_seconds, 1)
        row["params"] = ";".join(f"{k}={v}" for k, v in sorted(result.params.items()))
        row["date"] = _dt.date.today().isoformat()
        row["protocol"] = result.protocol
        rows.append(row)
    return pd.DataFrame(rows)


def merge_csv(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    """Existing rows of ``path`` with the same (split, model) replaced by ``new``; written back."""
    if path.exists():
        old = pd.read_csv(path)
        replaced = old.set_index(KEY_COLUMNS).index.isin(new.set_index(KEY_COLUMNS).index)
        new = pd.concat([old[~replaced], new], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(path, index=False)
    return new


def metric_columns(frame: pd.DataFrame) -> List[str]:
    """Metric columns in a stable, readable order: sampled, then full, then coverage."""
    names = [c for c in frame.columns if "@" in c]
    order = {"sampled_hit": 0, "sampled_ndcg": 1, "full_hit": 2, "full_ndcg": 3, "full_recall": 4, "coverage": 5}

    def key(name: str):
        family, cutoff = name.split("@")
        return int(cutoff), order.get(family, 9)

    return sorted((c for c in names if frame[c].notna().any()), key=key)


def split_notes(frame: pd.DataFrame) -> List[str]:
    """One line per split in the CSV, saying how it was built (recorded with each result)."""
    if "protocol" not in frame.columns:
        return []
    described = frame.dropna(subset=["protocol"]).drop_duplicates("split")
    return [f"- `{row.split}`: {row.protocol}" for row in described.itertuples()]


def write_markdown(path: Path, dataset: str, frame: pd.DataFrame, notes: Sequence[str]) -> None:
    machine = machine_info()
    lines = [
        f"# {dataset}: offline benchmark",
        "",
        f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python -m recsys.evaluate`; "
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM, Python {machine['python']}.",
        "",
        *notes,
        *split_notes(frame),
        "",
    ]
    for split, part in frame.groupby("split", sort=False):
        columns = metric_columns(part)
        lines += [f"## {split} ({int(part['n_evaluated'].iloc[0])} users)", ""]
        header = ["model", *columns, "fit s", "score s"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for _, row in part.iterrows():
            values = [f"{row[c]:.4f}" for c in columns]
            lines.append(f"| {row['model']} | " + " | ".join(values) + f" | {row['fit_seconds']:.1f} | {row['score_seconds']:.1f} |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(path: Path, dataset: str, frame: pd.DataFrame) -> None:
    """One small panel per metric (sampled and full metrics differ tenfold in scale), one bar per
    model; a row of panels per split. Agg backend: no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(frame["split"]))
    columns = [c for c in metric_columns(frame) if not c.startswith("coverage")]
    fig, axes = plt.subplots(len(splits), len(columns), figsize=(3.2 * len(columns), 0.35 * len(frame) + 2.5), squeeze=False)
    for r, split in enumerate(splits):
        part = frame[frame["split"] == split]
        for c, column in enumerate(columns):
            ax = axes[r, c]
            ax.barh(part["model"], part[column], color="tab:blue")
            ax.invert_yaxis()
            ax.set_title(f"{column}\n{split}", fontsize=8)
            ax.tick_params(labelsize=7)
            if c:
                ax.set_yticklabels([])
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{dataset} (tie-aware ranks; higher is better)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
