"""How long the action server takes to start: from launching ``rasa run actions`` until ``GET /health`` answers 200.

The start matters because ``make run``, ``make shell`` and the end-to-end tests
wait for it, and a restart after a deploy is that long without actions. The
recommender itself loads on the first request, so this measures the imports of
``actions/`` and the SDK's start. Run:
``.venv/bin/python benchmarks/action_server_start.py --runs 5`` (the median is
the figure to quote; min and max show how noisy the machine was).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def time_one_start(rasa: Path, timeout: float) -> float:
    """Seconds from launching the action server until /health answers 200; the server is stopped after."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    started = time.monotonic()
    process = subprocess.Popen([str(rasa), "run", "actions", "--actions", "actions", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        while time.monotonic() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"the action server exited with {process.returncode}")
            if healthy(f"http://127.0.0.1:{port}/health"):
                return time.monotonic() - started
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"the action server did not answer within {timeout:.0f} s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one start may take")
    parser.add_argument("--rasa", type=Path, default=PROJECT_ROOT / ".venv/bin/rasa")
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        times.append(time_one_start(args.rasa, args.timeout))
        print(f"run {run}: {times[-1]:.2f} s", flush=True)
    print(f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}) over {len(times)} runs")


if __name__ == "__main__":
    main()
