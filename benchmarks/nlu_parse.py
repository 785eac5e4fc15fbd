"""How fast and how heavy the language model is: parse latency, memory, model size, in-process.

Loads a trained Rasa model the way `rasa run` does (`Agent.load`), parses the messages of
`tests/nlu/heldout_messages.yml` one at a time (what `/model/parse` does for each request, without the
HTTP hop), and prints p50/p90/p99 latency, the process's resident memory after loading and after
parsing, and the model file's size:

    .venv/bin/python benchmarks/nlu_parse.py --model var/models/rasa/daogou.tar.gz

The machine's load at the start is printed too: on a shared machine latency rises with it.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path
from typing import List

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout_messages.yml"


def resident_mb() -> float:
    """Current resident set size of this process, in MiB (from /proc, else the peak from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def messages(limit: int) -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    texts = [m.get("text") for m in load_data(str(HELDOUT)).intent_examples]
    return texts[:limit]


async def run(model: Path, limit: int, warmup: int) -> None:
    from rasa.core.agent import Agent

    before = resident_mb()
    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_seconds = time.perf_counter() - started
    loaded = resident_mb()
    texts = messages(limit)
    for text in texts[:warmup]:
        await agent.parse_message(text)
    latencies = []
    for text in texts:
        started = time.perf_counter()
        await agent.parse_message(text)
        latencies.append((time.perf_counter() - started) * 1000)
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    print(f"model {model} ({model.stat().st_size / 1e6:.1f} MB); load average at start {os.getloadavg()[0]:.1f}")
    print(f"loaded in {load_seconds:.1f} s; resident {before:.0f} MiB before loading, {loaded:.0f} MiB loaded, "
          f"{resident_mb():.0f} MiB after {len(texts)} parses")
    print(f"parse latency over {len(texts)} messages: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
          f"mean {np.mean(latencies):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if not args.model.exists():
        sys.exit(f"no model at {args.model}")
    asyncio.run(run(args.model, args.limit, args.warmup))


if __name__ == "__main__":
    main()
