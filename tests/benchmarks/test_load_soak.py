"""The soak's arithmetic (per-minute figures, the flatness rule), its record, and its loop against the stand-in
server of ``test_load_channels`` with minutes made half a second long."""
from __future__ import annotations

import json

import pytest

import benchmarks.load_soak as load_soak
from benchmarks.load import parse_args
from benchmarks.load_servers import WHOLE_STACK
from benchmarks.load_soak import FlatRule, SoakMinute, SoakReport, flatness, minute_of, run_soak
from benchmarks.load_stats import Outcome
from benchmarks.load_traffic import ApiTraffic
from tests.benchmarks.test_load_channels import MIX, with_stand_in


def minute(index: int, whole_mb: float, p50_s: float, p99_s: float = 2.0) -> SoakMinute:
    return SoakMinute(index, {"rasa": int(whole_mb * 0.6e6), WHOLE_STACK: int(whole_mb * 1e6)}, 100, p50_s * 1000,
                      p99_s * 1000, 0, 20, 0)


def test_the_rule_is_five_minutes_of_warm_up_then_ten_against_ten_and_shrinks_for_short_soaks():
    assert (FlatRule.for_minutes(30).warm_up, FlatRule.for_minutes(30).window) == (5, 10)
    assert (FlatRule.for_minutes(2).warm_up, FlatRule.for_minutes(2).window) == (0, 1)
    assert (FlatRule.for_minutes(12).warm_up, FlatRule.for_minutes(12).window) == (2, 5)


def test_flat_memory_and_latency_pass_and_growth_beyond_the_tolerance_fails():
    rule = FlatRule.for_minutes(30)
    warm = [minute(i, 3000, 9.0) for i in range(1, 6)]  # the warm-up is not judged
    steady = warm + [minute(i, 2000 + (i % 2) * 50, 1.0 + (i % 3) * 0.05) for i in range(6, 31)]
    report = SoakReport("now", {}, "c", "cmd", "daogou", {}, {}, steady, rule)
    assert report.flat is True and all(d.flat for d in report.drifts)
    leaking = warm + [minute(i, 2000 + (i - 6) * 20, 1.0) for i in range(6, 31)]  # +20 MB a minute: +~13 %
    drifts = {d.what: d for d in flatness(leaking, rule)}
    assert drifts[f"{WHOLE_STACK} RSS"].flat is False and drifts["chat p50"].flat is True
    assert drifts[f"{WHOLE_STACK} RSS"].change == pytest.approx((2000 + 20 * 19.5) / (2000 + 20 * 4.5) - 1)
    slowing = warm + [minute(i, 2000, 1.0 + (i - 6) * 0.02) for i in range(6, 31)]
    assert {d.what: d.flat for d in flatness(slowing, rule)}["chat p50"] is False
    spiky = warm + [minute(i, 2000, 1.0, p99_s=2.0 + (i > 20) * 3) for i in range(6, 31)]  # p99 alone: shown, not judged
    assert SoakReport("now", {}, "c", "cmd", "daogou", {}, {}, spiky, rule).flat is True
    assert {d.what: d.flat for d in flatness(spiky, rule)}["chat p99"] is False
    assert SoakReport("now", {}, "c", "cmd", "daogou", {}, {}, [], rule).flat is None


def test_a_minute_counts_chat_and_shop_api_apart():
    outcomes = [Outcome(1000.0, channel="rest"), Outcome(3000.0, "timeout", channel="socketio"),
                Outcome(5.0, channel="events"), Outcome(7.0, "http 503", channel="recommendations")]
    m = minute_of(3, outcomes, {"rasa": 5, WHOLE_STACK: 5})
    assert (m.minute, m.chat_messages, m.chat_errors, m.api_requests, m.api_errors) == (3, 2, 1, 2, 1)
    assert m.chat_p50_ms == 2000.0 and m.rss == {"rasa": 5, WHOLE_STACK: 5}


def test_the_soak_writes_a_table_a_record_and_a_plot(tmp_path):
    minutes = [minute(i, 2000, 1.0) for i in range(1, 3)]
    report = SoakReport("2026-12-04 19:00 UTC", {"cpu": "Test CPU", "cores": 2, "memory_gib": 24}, "abc", "load.py --soak 2",
                        "daogou", {"shoppers": 50, "rate": 3.5, "rate_source": "--rate", "api": "no shop API traffic"},
                        {"before": (1, 1, 1), "after": (2, 2, 2)}, minutes, FlatRule.for_minutes(2),
                        {"rest": {"requests": 200, "errors": 0}})
    paths = report.write(tmp_path, "soak-test")
    assert [p.suffix for p in paths] == [".json", ".md", ".png"] and paths[2].stat().st_size > 10_000
    text = paths[1].read_text()
    assert "| 1 | 1,200 | 2,000 | 100 | 1.00 | 2.00 | 0 | 20 | 0 |" in text
    assert "Verdict: **flat**" in text and "50 shopper seats at 3.50 chat messages/s" in text
    data = json.loads(paths[0].read_text())
    assert data["flat"] is True and data["rule"] == {"warm_up": 0, "window": 1, "memory_tolerance": 0.1,
                                                     "latency_tolerance": 0.2}


def test_the_soak_loop_takes_one_reading_a_minute_and_says_so(monkeypatch):
    monkeypatch.setattr(load_soak, "MINUTE_S", 0.5)
    lines = []
    readings = iter(range(1, 100))

    async def scenario(endpoints, _):
        return await run_soak(endpoints, MIX, shoppers=2, rate=20, minutes=3, api=ApiTraffic(1, 10, ("p1",)),
                              read_memory=lambda: {WHOLE_STACK: next(readings) * 1_000_000}, timeout_s=10,
                              sender_prefix="s", progress=lines.append)

    (minutes, outcomes), _ = with_stand_in(scenario)
    assert [m.minute for m in minutes] == [1, 2, 3] and len(lines) == 3
    assert [m.rss[WHOLE_STACK] for m in minutes] == [1_000_000, 2_000_000, 3_000_000]
    assert sum(m.chat_messages + m.api_requests for m in minutes) <= len(outcomes)
    assert lines[0].startswith("soak minute 1: whole stack 1 MB, chat ")


def test_soak_arguments_pick_daogou_and_refuse_the_toy_bot():
    assert parse_args(["--soak", "2"]).targets == ["daogou"]
    assert parse_args(["--soak", "2", "--profile", "production"]).targets == ["daogou-production"]
    with pytest.raises(SystemExit):
        parse_args(["--soak", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--soak", "2", "--targets", "rasa-init"])
