"""The load benchmark's own parts: its arithmetic, its traffic, its runner against a stand-in server, its
process handling and its report. The real servers are measured by ``benchmarks/load.py`` itself, never here
(speed is checked by benchmarks, not by timed unit tests)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from aiohttp import web

from benchmarks.load import parse_args
from benchmarks.load_report import LoadReport, Machine, TargetResult
from benchmarks.load_servers import (LOOPBACK, MemorySampler, ServerError, ServerGroup, ServerSpec, count_logged_errors,
                                     free_port, tree_rss)
from benchmarks.load_stats import UNFINISHED, LatencySummary, MemoryTrack, Outcome, summarise
from benchmarks.load_targets import daogou_mix, parse_target_names
from benchmarks.load_traffic import Conversation, Endpoints, Step, TrafficMix, run_concurrent, run_sequential
from tests.benchmarks.loopback import served


# --- arithmetic ---------------------------------------------------------------------------------------------

def test_percentiles_match_numpy_linear_interpolation():
    summary = LatencySummary.of([float(v) for v in range(1, 101)])
    assert (summary.count, summary.p50, summary.p95, summary.p99) == (100, 50.5, 95.05, 99.01)
    assert summary.mean == 50.5 and summary.max == 100
    assert LatencySummary.of([]) == LatencySummary(0, None, None, None, None, None)


def test_summary_counts_errors_by_kind_and_keeps_failed_requests_in_the_latency():
    outcomes = [Outcome(10.0), Outcome(20.0), Outcome(60_000.0, "timeout"), Outcome(5.0, "http 500"),
                Outcome(5.0, "http 500"), Outcome(None, UNFINISHED)]
    summary = summarise(outcomes, wall_s=2.0)
    assert (summary.requests, summary.ok, summary.error_count) == (6, 2, 4)
    assert summary.errors == {"http 500": 2, "timeout": 1, UNFINISHED: 1}
    assert summary.throughput == 1.0  # good answers only
    assert summary.latency.count == 5 and summary.latency.max == 60_000.0  # the timeout counts, the cut-off does not
    assert summarise(outcomes, 0, with_throughput=False).throughput is None
    with pytest.raises(ValueError):
        summarise(outcomes, -1)


def test_memory_track_keeps_idle_peak_and_last_and_ignores_a_vanished_process():
    track = MemoryTrack()
    for rss in (100, 300, None, 200):
        track.add(rss)
    assert (track.idle, track.peak, track.last, track.samples) == (100, 300, 200, 3)


# --- traffic ------------------------------------------------------------------------------------------------

def test_mix_gives_each_shopper_a_fixed_conversation_in_proportion_to_the_weights():
    a, b = Conversation("a", (Step("x"),)), Conversation("b", (Step("y"),))
    mix = TrafficMix(((3, a), (1, b)))
    picks = [mix.for_shopper(i).name for i in range(8)]
    assert picks.count("a") == 6 and picks.count("b") == 2
    assert [mix.for_shopper(i).name for i in range(8)] == picks
    with pytest.raises(ValueError):
        TrafficMix(((0, a),))
    with pytest.raises(ValueError):
        Conversation("empty", ())


def test_a_conversation_repeats_from_the_top():
    conversation = Conversation("c", (Step("1"), Step("2"), Step("3")))
    assert [s.text for s in conversation.messages(7)] == ["1", "2", "3", "1", "2", "3", "1"]


def test_daogou_shoppers_alternate_languages_and_shop_as_the_issue_describes():
    mix = daogou_mix()
    first, second = mix.for_shopper(0), mix.for_shopper(1)
    assert first.steps[0].text == "recommend me a phone under 3000"
    assert second.steps[0].text == "推荐一款3000元以内的手机"
    texts = [s.text for s in first.steps]
    assert texts[1:] == ["something cheaper", "tell me more about the second one", "compare the first two",
                         "add the first one to my cart"]
    conversations = [mix.for_shopper(i) for i in range(50)]
    rest = {c.name for c in conversations if c.steps[0].channel == "rest"}
    socket = {c.name for c in conversations if c.steps[0].channel == "socketio"}
    assert len(rest) == len(socket) == len(mix.entries)  # on both channels, 50 shoppers see every category and language
    assert sum(c.steps[0].channel == "socketio" for c in conversations) == 10  # one shopper in five
    assert all(len({s.channel for s in c.steps}) == 1 for c in conversations)  # a shopper keeps its channel
    assert mix.channels == ["rest", "socketio"]
    assert daogou_mix(socketio_every=0).channels == ["rest"]


def test_target_names_are_checked():
    assert parse_target_names("rasa-init, daogou,rasa-init") == ["rasa-init", "daogou"]
    with pytest.raises(ValueError, match="unknown target"):
        parse_target_names("daogou,toy")
    with pytest.raises(ValueError):
        parse_target_names(" , ")


# --- the runners, against a stand-in Rasa server ---------------------------------------------------------------

class StandIn:
    """Answers like Rasa's REST channel and /model/parse; some messages misbehave on purpose."""

    def __init__(self) -> None:
        self.received: List[Tuple[str, str]] = []
        self.in_flight = self.most_in_flight = 0

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((body["sender"], body["message"]))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if body["message"] == "fail":
                return web.Response(status=500, text="boom")
            if body["message"] == "slow":
                await asyncio.sleep(5)
            if body["message"] == "silent":
                return web.json_response([])
            return web.json_response([{"recipient_id": body["sender"], "text": f"re: {body['message']}"}])
        finally:
            self.in_flight -= 1

    async def parse(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"text": body["text"], "intent": {"name": "greet", "confidence": 1.0}})


def with_stand_in(scenario):
    """Run ``scenario(endpoints, stand_in)`` with a stand-in server on a loopback port."""
    async def main():
        stand_in = StandIn()
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", stand_in.webhook)
        app.router.add_post("/model/parse", stand_in.parse)
        return await served(app, lambda url: scenario(Endpoints({"rasa": url}), stand_in)), stand_in
    return asyncio.run(main())


def test_concurrent_shoppers_each_have_their_own_sender_and_conversation_order():
    mix = TrafficMix(((1, Conversation("a", (Step("hi"), Step("more")))), (1, Conversation("b", (Step("你好"),)))))

    async def scenario(endpoints, _):
        return await run_concurrent(endpoints, mix, shoppers=6, messages=3, sender_prefix="t", timeout_s=5, max_seconds=30)

    (outcomes, wall), stand_in = with_stand_in(scenario)
    assert len(outcomes) == 18 and all(o.ok for o in outcomes)
    assert stand_in.most_in_flight > 1  # really at once, not one after another
    by_sender: Dict[str, List[str]] = {}
    for sender, message in stand_in.received:
        by_sender.setdefault(sender, []).append(message)
    assert by_sender == {f"t-{i}": (["hi", "more", "hi"] if i % 2 == 0 else ["你好"] * 3) for i in range(6)}
    assert summarise(outcomes, wall).throughput > 0


def test_failures_are_counted_by_kind_and_a_hung_run_ends_at_its_deadline():
    mix = TrafficMix(((1, Conversation("bad", (Step("fail"), Step("silent"), Step("ok"), Step("slow")))),))

    async def scenario(endpoints, _):
        return await run_concurrent(endpoints, mix, shoppers=2, messages=4, sender_prefix="t", timeout_s=0.5,
                                    max_seconds=30)

    (outcomes, _), _ = with_stand_in(scenario)
    assert summarise(outcomes, 1).errors == {"empty reply": 2, "http 500": 2, "timeout": 2}

    async def hung(endpoints, _):
        started = time.monotonic()
        result = await run_concurrent(endpoints, TrafficMix(((1, Conversation("s", (Step("slow"),))),)), shoppers=3,
                                      messages=2, sender_prefix="h", timeout_s=60, max_seconds=0.5)
        return result, time.monotonic() - started

    ((outcomes, _), took), _ = with_stand_in(hung)
    assert took < 4 and [o.error for o in outcomes] == [UNFINISHED] * 6


def test_sequential_run_uses_the_step_channel():
    steps = [("s1", Step("hello", "parse")), ("s2", Step("hello")), ("s3", Step("fail"))]

    async def scenario(endpoints, _):
        return await run_sequential(endpoints, steps, timeout_s=5)

    outcomes, stand_in = with_stand_in(scenario)
    assert [o.error for o in outcomes] == [None, None, "http 500"]
    assert stand_in.received == [("s2", "hello"), ("s3", "fail")]  # parse went to /model/parse
    with pytest.raises(ValueError, match="unknown channel"):
        asyncio.run(run_sequential(Endpoints({"rasa": "http://127.0.0.1:9"}), [("s", Step("x", "carrier-pigeon"))], 1))


# --- servers ------------------------------------------------------------------------------------------------

def http_server(name: str, tmp_path: Path) -> ServerSpec:
    port = free_port()
    return ServerSpec(name, [sys.executable, "-m", "http.server", str(port), "--bind", LOOPBACK], tmp_path,
                      f"http://{LOOPBACK}:{port}/")


def test_servers_start_in_order_report_memory_and_are_stopped(tmp_path):
    specs = [http_server("first", tmp_path), http_server("second", tmp_path)]
    with ServerGroup(specs, tmp_path / "logs", startup_timeout_s=60) as group:
        processes = [s.process for s in group.servers.values()]
        assert list(group.servers) == ["first", "second"] and all(s.ready_s > 0 for s in group.servers.values())
        with MemorySampler(group, interval_s=0.05) as memory:
            time.sleep(0.2)
        assert all(track.samples >= 2 and track.peak > 1_000_000 for track in memory.tracks.values())
    assert all(p.poll() is not None for p in processes)
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["first.log", "second.log"]
    assert all(tree_rss(p.pid) is None for p in processes)


def test_a_server_that_dies_fails_the_start_with_its_log_and_stops_the_others(tmp_path):
    good = http_server("good", tmp_path)
    bad = ServerSpec("bad", [sys.executable, "-c", "print('no model here'); raise SystemExit(3)"], tmp_path,
                     f"http://{LOOPBACK}:{free_port()}/")
    group = ServerGroup([good, bad], tmp_path, startup_timeout_s=60)
    with pytest.raises(ServerError, match="(?s)bad exited with 3.*no model here"):
        group.__enter__()
    assert group.servers["good"].process.poll() is not None


def test_a_server_that_lives_on_without_its_model_fails_the_start_at_once(tmp_path):
    script = "import time; print('ERROR rasa.core.agent - Could not load model due to ...', flush=True); time.sleep(60)"
    spec = ServerSpec("rasa", [sys.executable, "-c", script], tmp_path, f"http://{LOOPBACK}:{free_port()}/status",
                      fatal_markers=("Could not load model",))
    started = time.monotonic()
    with pytest.raises(ServerError, match="failed to start"):
        ServerGroup([spec], tmp_path, startup_timeout_s=60).__enter__()
    assert time.monotonic() - started < 20


def test_error_lines_are_counted_by_logger():
    log = "\n".join([
        "2026-12-04 10:29:05 INFO     root  - Starting Rasa server",
        "2026-12-04 10:29:05 ERROR    rasa.core.actions.action  - Failed to run custom action 'x'. Error: Cannot write",
        "rasa.shared.exceptions.RasaException: Failed to execute custom action 'x'.",
        "2026-12-04 10:29:06 ERROR    rasa.core.processor  - Encountered an exception while running action 'x'.",
        "2026-12-04 10:29:07 ERROR    rasa.core.actions.action  - Failed to run custom action 'y'.",
        "ERROR",
    ])
    assert count_logged_errors(log) == {"rasa.core.actions.action": 2, "rasa.core.processor": 1}
    assert count_logged_errors("") == {}


def test_tree_rss_counts_children(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(80_000_000); import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (tree_rss(child.pid) or 0) < 80_000_000:
            time.sleep(0.1)
        assert tree_rss(os.getpid()) >= tree_rss(child.pid) >= 80_000_000
    finally:
        child.kill()
        child.wait()


# --- the report ---------------------------------------------------------------------------------------------

def result(name: str, parse_ms: float, turn_ms: float, throughput_msgs: int, rss: int, model_bytes: int,
           errors: int = 0) -> TargetResult:
    memory = {"rasa": MemoryTrack()}
    memory["rasa"].add(rss // 2)
    memory["rasa"].add(rss)
    concurrent = [Outcome(100.0)] * throughput_msgs + [Outcome(100.0, "timeout")] * errors
    return TargetResult(name, name, f"/m/{name}.tar.gz", model_bytes, "rasa", {"rasa": 30.0}, 900.0,
                        summarise([Outcome(parse_ms)] * 10, 0, False), summarise([Outcome(turn_ms)] * 10, 0, False),
                        summarise(concurrent, 1.0), memory)


def report(*targets: TargetResult) -> LoadReport:
    return LoadReport(datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc),
                      Machine("Test CPU", 2, 24.0, "Linux 6.1 x86_64", "3.10.13"), "abc123", "benchmarks/load.py",
                      {"shoppers": 50, "messages": 20, "parse_requests": 100, "turns": 40, "timeout_s": 60.0,
                       "max_seconds": 1200.0, "targets": [t.name for t in targets]},
                      {"before": (1.5, 1.0, 0.5), "after": (2.5, 1.2, 0.6)}, 10, list(targets))


def test_goals_compare_daogou_with_issue_17_and_the_toy_bot():
    goals = report(result("daogou", 15, 80, 12, 900_000_000, 325_000_000, errors=1),
                   result("rasa-init", 5, 20, 10, 500_000_000, 30_000_000)).goals()
    met = {g.what: g.met for g in goals}
    assert met == {"`/model/parse` p50": True, "recommendation turn over REST, p50": False,
                   "50 shoppers x 20 messages: errors": False, "throughput against the `rasa init` bot": True,
                   "Rasa server resident memory (peak)": True, "model file": False,
                   "default profile whole stack, resident (peak of the sum)": None}
    slow = report(result("daogou", 15, 40, 4, 2_400_000_000, 90_000_000),
                  result("rasa-init", 5, 20, 10, 500_000_000, 30_000_000)).goals()
    assert {g.what: g.met for g in slow}["throughput against the `rasa init` bot"] is False
    assert {g.what: g.met for g in slow}["Rasa server resident memory (peak)"] is False
    alone = {g.what: g.met for g in report(result("daogou", 15, 40, 4, 1, 1)).goals()}
    assert alone["throughput against the `rasa init` bot"] is None
    assert report(result("rasa-init", 5, 20, 10, 1, 1)).goals() == []


def test_report_is_written_as_json_and_markdown_named_by_date_machine_and_commit(tmp_path):
    ours = result("daogou", 81, 239, 4, 2_400_000_000, 325_000_000)
    ours.logged_errors = {"rasa": {"rasa.core.actions.action": 5, "rasa.core.channels.rest": 2}, "actions": {}}
    r = report(ours, result("rasa-init", 5, 20, 13, 5e8, 3e7))
    json_path, md_path = r.write(tmp_path)
    assert json_path.name == "load-2026-12-04T0930Z-2c-24GiB-Linux-x86_64-abc123.json"
    assert md_path.with_suffix(".json") == json_path
    data = json.loads(json_path.read_text())
    assert data["commit"] == "abc123" and data["machine"]["cores"] == 2 and data["niceness"] == 10
    assert [t["name"] for t in data["targets"]] == ["daogou", "rasa-init"]
    assert data["targets"][0]["concurrent"]["throughput"] == 4.0
    assert data["targets"][0]["memory"]["rasa"]["peak"] == 2_400_000_000
    assert data["targets"][0]["logged_errors"]["rasa"]["rasa.core.actions.action"] == 5
    text = md_path.read_text()
    assert "before 1.50 / 1.00 / 0.50, after 2.50 / 1.20 / 0.60; the benchmark and its servers ran at niceness 10" in text
    assert "| concurrent: throughput | 4.0 msg/s | 13.0 msg/s |" in text
    assert "| rasa RSS idle / peak | 1,200 MB / 2,400 MB | 250 MB / 500 MB |" in text
    assert "| `/model/parse` p50 | <= 20 ms | 81.0 ms | **missed** |" in text
    assert "| ERROR lines in the server logs | rasa 7 (rasa.core.actions.action 5, rasa.core.channels.rest 2); actions 0 | - |" in text


def test_the_production_profile_is_measured_beside_the_default_one():
    assert parse_args([]).targets == ["daogou", "rasa-init"]
    assert parse_args(["--profile", "production"]).targets == ["daogou", "rasa-init", "daogou-production"]
    assert parse_target_names("daogou-production") == ["daogou-production"]
