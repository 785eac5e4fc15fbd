"""The load benchmark's socket.io shoppers, shop API clients, paced runs and whole-stack memory, against a
stand-in server that speaks Rasa's socket.io protocol (python-socketio, as Rasa does) and the shop API's two
routes. No timing asserts: what is checked is who sent what over which channel, and how it was counted."""
from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import Dict, List, Tuple

import socketio
from aiohttp import web

from benchmarks.load_servers import LOOPBACK, WHOLE_STACK, MemorySampler, ServerGroup, ServerSpec, free_port
from tests.benchmarks.loopback import served
from benchmarks.load_stats import UNFINISHED, by_channel, summarise
from benchmarks.load_traffic import (API_EVENTS_PER_SHOPPER, ApiTraffic, Conversation, Endpoints, Pacing, Step, TrafficMix, run_concurrent,
                                     run_sequential)

TOKEN = "shop-token"


class StandIn:
    """Rasa's socket.io channel (session_request / user_uttered -> bot_uttered, two replies a turn) and the shop
    API's POST /v1/events (token checked) and GET /v1/recommendations; REST as Rasa's."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="aiohttp")
        self.chat: List[Tuple[str, str, str]] = []  # (channel, sender, text)
        self.events: List[dict] = []
        self.recommended: List[str] = []
        self.sio.on("session_request", self.session_request)
        self.sio.on("user_uttered", self.user_uttered)

    async def session_request(self, sid, data) -> None:
        await self.sio.emit("session_confirm", data["session_id"], room=sid)

    async def user_uttered(self, sid, data) -> None:
        self.chat.append(("socketio", data["session_id"], data["message"]))
        if data["message"] == "silent":
            return
        await asyncio.sleep(0.05)  # the replies come while the handler runs, as Rasa's do
        for part in ("one", "two"):
            await self.sio.emit("bot_uttered", {"text": f"{part}: {data['message']}"}, room=sid)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.chat.append(("rest", body["sender"], body["message"]))
        return web.json_response([{"recipient_id": body["sender"], "text": f"re: {body['message']}"}])

    async def post_event(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "token"}, status=401)
        self.events.append(await request.json())
        return web.json_response({"stored": 1, "results": [{"status": "stored"}]})

    async def recommendations(self, request: web.Request) -> web.Response:
        self.recommended.append(request.query["user_id"])
        return web.json_response({"products": [{"id": "p1"}]})


def with_stand_in(scenario):
    async def main():
        stand_in = StandIn()
        app = web.Application()
        stand_in.sio.attach(app)
        app.router.add_post("/webhooks/rest/webhook", stand_in.webhook)
        app.router.add_post("/v1/events", stand_in.post_event)
        app.router.add_get("/v1/recommendations", stand_in.recommendations)
        return await served(app, lambda url: scenario(Endpoints({"rasa": url, "shop_api": url}, api_token=TOKEN),
                                                      stand_in)), stand_in
    return asyncio.run(main())


MIX = TrafficMix(((1, Conversation("a", (Step("hi"), Step("more")))), (1, Conversation("b", (Step("你好"),)))),
                 socketio_every=3)


def test_socketio_shoppers_keep_one_session_and_each_turn_collects_all_its_replies():
    async def scenario(endpoints, _):
        return await run_concurrent(endpoints, MIX, shoppers=6, messages=3, sender_prefix="t", timeout_s=10,
                                    max_seconds=60)

    (outcomes, wall), stand_in = with_stand_in(scenario)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    counts = Counter(o.channel for o in outcomes)
    assert counts == {"socketio": 6, "rest": 12}  # shoppers 0 and 3 over socket.io, 3 messages each
    by_sender: Dict[str, List[Tuple[str, str]]] = {}
    for channel, sender, text in stand_in.chat:
        by_sender.setdefault(sender, []).append((channel, text))
    assert by_sender["t-0"] == [("socketio", "hi"), ("socketio", "more"), ("socketio", "hi")]
    assert by_sender["t-3"] == [("socketio", "你好")] * 3
    assert by_sender["t-1"] == [("rest", "你好")] * 3
    assert summarise(by_channel(outcomes)["socketio"], wall).ok == 6


def test_a_socketio_turn_without_a_reply_is_an_error_and_the_next_turn_is_its_own():
    steps = [("s", Step("silent", "socketio")), ("s", Step("hello", "socketio"))]

    async def scenario(endpoints, _):
        return await run_sequential(endpoints, steps, timeout_s=10)

    outcomes, _ = with_stand_in(scenario)
    assert [o.error for o in outcomes] == ["empty reply", None]
    assert [o.channel for o in outcomes] == ["socketio", "socketio"]


def test_shop_api_clients_post_events_and_fetch_recommendations_beside_the_chat_with_the_token():
    api = ApiTraffic(clients=2, rate=200, products=("p1", "p2", "p3"))

    async def scenario(endpoints, _):
        return await run_concurrent(endpoints, MIX, shoppers=2, messages=30, sender_prefix="t", timeout_s=10,
                                    max_seconds=60, api=api)

    (outcomes, _), stand_in = with_stand_in(scenario)
    grouped = by_channel(outcomes)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert len(grouped["events"]) == len(stand_in.events) > 0
    assert len(grouped["recommendations"]) == len(stand_in.recommended) > 0
    assert abs(len(grouped["events"]) - len(grouped["recommendations"])) <= 2  # in turn, per client
    assert {e["user_id"] for e in stand_in.events} >= {"t-api-0-0", "t-api-1-0"}
    per_shopper = Counter(e["user_id"] for e in stand_in.events)
    assert max(per_shopper.values()) <= API_EVENTS_PER_SHOPPER  # then the client goes on to a new shopper
    assert set(stand_in.recommended) <= set(per_shopper)  # recommendations for the shoppers it posted for
    assert {e["product_id"] for e in stand_in.events} <= {"p1", "p2", "p3"}
    assert len({e["event_id"] for e in stand_in.events}) == len(stand_in.events)  # each event its own id

    async def wrong_token(endpoints, _):
        return await run_concurrent(Endpoints(endpoints.urls, api_token="nope"), MIX, shoppers=1, messages=2,
                                    sender_prefix="w", timeout_s=10, max_seconds=60, api=api)

    (outcomes, _), _ = with_stand_in(wrong_token)
    assert {o.error for o in by_channel(outcomes)["events"]} == {"http 401"}


def test_a_paced_run_renews_each_shopper_after_its_conversation_and_stops_at_its_duration():
    seen: list = []

    async def scenario(endpoints, _):
        return await run_concurrent(endpoints, MIX, shoppers=2, messages=0, sender_prefix="p", timeout_s=10,
                                    max_seconds=60, pacing=Pacing(rate=40, duration_s=1.0), on_outcome=seen.append)

    (outcomes, _), stand_in = with_stand_in(scenario)
    assert outcomes and len(seen) == len(outcomes) and UNFINISHED not in {o.error for o in outcomes}
    senders = {sender for _, sender, _ in stand_in.chat}
    assert {"p-1", "p-1-1", "p-0", "p-0-1"} <= senders  # a new shopper after each conversation
    assert [text for _, sender, text in stand_in.chat if sender == "p-0-1"] == ["hi", "more"]
    assert len(outcomes) <= 40 * 1.0 + 2  # the rate is a ceiling: at most one start per tick, plus those in flight


def test_the_memory_sampler_adds_other_processes_and_sums_the_whole_stack_from_one_reading(tmp_path):
    port = free_port()
    spec = ServerSpec("web", [sys.executable, "-m", "http.server", str(port), "--bind", LOOPBACK], tmp_path,
                      f"http://{LOOPBACK}:{port}/")
    with ServerGroup([spec], tmp_path / "logs", startup_timeout_s=60) as group:
        sampler = MemorySampler(group, interval_s=0.05, extra={"store": lambda: 50_000_000, "gone": lambda: None})
        reading = sampler.read()
        assert reading["store"] == 50_000_000 and reading["gone"] is None
        assert reading[WHOLE_STACK] == reading["web"] + 50_000_000
        with sampler as memory:
            time.sleep(0.2)
    assert memory.tracks["store"].peak == 50_000_000 and memory.tracks["gone"].samples == 0
    assert memory.tracks[WHOLE_STACK].peak >= memory.tracks["web"].idle + 50_000_000
