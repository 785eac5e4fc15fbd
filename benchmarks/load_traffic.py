"""What simulated shoppers send, over which channel, and the runs that time it.

A shopper follows one :class:`Conversation` (a list of :class:`Step`) from a weighted :class:`TrafficMix`,
repeating it until it has sent its quota of messages. Each step names its channel; a channel is an async
function registered in :data:`CHANNELS` that sends one step and returns an :class:`Outcome`. Only the REST
channel exists now; socket.io and shop-API traffic (issue 21) are further entries in that table and further
steps in a target's mix, not changes to the runners.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import aiohttp

from benchmarks.load_stats import UNFINISHED, Outcome


@dataclass(frozen=True)
class Step:
    """One thing a shopper does: ``text`` sent over ``channel``."""

    text: str
    channel: str = "rest"


@dataclass(frozen=True)
class Conversation:
    """A scripted conversation, repeated from the top when a shopper has more messages to send."""

    name: str
    steps: Tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"conversation {self.name!r} has no steps")

    def messages(self, count: int) -> List[Step]:
        """The first ``count`` steps of the conversation said over and over."""
        return [self.steps[i % len(self.steps)] for i in range(count)]


@dataclass(frozen=True)
class TrafficMix:
    """Conversations with integer weights; shopper ``i`` gets a fixed one, so a run is repeatable and a mix
    of weights 3:1 over 4 shoppers gives exactly 3 and 1."""

    entries: Tuple[Tuple[int, Conversation], ...]

    def __post_init__(self) -> None:
        if not self.entries or any(weight < 1 for weight, _ in self.entries):
            raise ValueError("a traffic mix needs at least one conversation, each with a weight >= 1")

    def for_shopper(self, index: int) -> Conversation:
        wheel = [conversation for weight, conversation in self.entries for _ in range(weight)]
        return wheel[index % len(wheel)]

    @property
    def channels(self) -> List[str]:
        return sorted({step.channel for _, c in self.entries for step in c.steps})


@dataclass(frozen=True)
class Endpoints:
    """Where a target listens: ``urls[service]`` is a base URL (``"rasa"`` now; a shop API later)."""

    urls: Mapping[str, str]
    #: Rasa's HTTP API token (``/model/parse`` needs it when the server was started with one).
    rasa_token: Optional[str] = None

    def __getitem__(self, service: str) -> str:
        return self.urls[service]


Channel = Callable[[aiohttp.ClientSession, Endpoints, str, Step, float], Awaitable[Outcome]]


async def _timed_post(session: aiohttp.ClientSession, url: str, payload: dict, timeout_s: float,
                      check: Callable[[object], Optional[str]]) -> Outcome:
    """POST ``payload``; the answer is good when it is 200, JSON, and ``check`` finds nothing wrong in it."""
    started = time.perf_counter()
    try:
        async with session.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            body = await response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                return Outcome(elapsed, f"http {response.status}")
            try:
                data = json.loads(body)
            except ValueError:
                return Outcome(elapsed, "not json")
            return Outcome(elapsed, check(data))
    except asyncio.TimeoutError:
        return Outcome((time.perf_counter() - started) * 1000, "timeout")
    except aiohttp.ClientError as exc:
        return Outcome((time.perf_counter() - started) * 1000, f"connection: {type(exc).__name__}")


def _rest_reply_problem(data: object) -> Optional[str]:
    if not isinstance(data, list):
        return "not a reply list"
    return None if data else "empty reply"


def _parse_problem(data: object) -> Optional[str]:
    return None if isinstance(data, dict) and isinstance(data.get("intent"), dict) else "no intent"


async def rest_turn(session: aiohttp.ClientSession, endpoints: Endpoints, sender: str, step: Step,
                    timeout_s: float) -> Outcome:
    """One message over Rasa's REST channel: good when at least one reply comes back."""
    return await _timed_post(session, f"{endpoints['rasa']}/webhooks/rest/webhook",
                             {"sender": sender, "message": step.text}, timeout_s, _rest_reply_problem)


async def parse(session: aiohttp.ClientSession, endpoints: Endpoints, sender: str, step: Step,
                timeout_s: float) -> Outcome:
    """``/model/parse`` (NLU only, no dialogue, no tracker): good when an intent comes back."""
    token = f"?token={endpoints.rasa_token}" if endpoints.rasa_token else ""
    return await _timed_post(session, f"{endpoints['rasa']}/model/parse{token}", {"text": step.text}, timeout_s,
                             _parse_problem)


CHANNELS: Dict[str, Channel] = {"rest": rest_turn, "parse": parse}


def channel(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; known: {', '.join(sorted(CHANNELS))}") from None


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(1, connections)))


async def run_sequential(endpoints: Endpoints, steps: Sequence[Tuple[str, Step]], timeout_s: float) -> List[Outcome]:
    """One shopper at a time: each ``(sender, step)`` is sent when the one before has been answered."""
    outcomes = []
    async with _session(1) as session:
        for sender, step in steps:
            outcomes.append(await channel(step.channel)(session, endpoints, sender, step, timeout_s))
    return outcomes


async def run_concurrent(endpoints: Endpoints, mix: TrafficMix, shoppers: int, messages: int, sender_prefix: str,
                         timeout_s: float, max_seconds: float) -> Tuple[List[Outcome], float]:
    """``shoppers`` shoppers at once, each with its own sender id, each sending its next message as soon as the
    last is answered (no think time: the server's capacity, not a shop's traffic), ``messages`` each.

    Returns every message's outcome and the wall time. Messages not answered when ``max_seconds`` runs out are
    :data:`UNFINISHED` errors, so a run that hangs still ends and says so.
    """
    for _, conversation in mix.entries:
        for step in conversation.steps:
            channel(step.channel)  # an unknown channel fails before any traffic
    results: List[List[Outcome]] = [[] for _ in range(shoppers)]

    async def shopper(index: int, session: aiohttp.ClientSession) -> None:
        sender = f"{sender_prefix}-{index}"
        for step in mix.for_shopper(index).messages(messages):
            results[index].append(await channel(step.channel)(session, endpoints, sender, step, timeout_s))

    started = time.perf_counter()
    async with _session(shoppers) as session:
        tasks = [asyncio.create_task(shopper(i, session)) for i in range(shoppers)]
        done, pending = await asyncio.wait(tasks, timeout=max_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a bug in the runner itself should not pass as a measurement
    wall = time.perf_counter() - started
    outcomes = [outcome for shopper_results in results for outcome in shopper_results]
    outcomes += [Outcome(None, UNFINISHED)] * (shoppers * messages - len(outcomes))
    return outcomes, wall
