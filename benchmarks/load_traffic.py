"""What simulated shoppers send, over which channel, and the runs that time it.

A shopper follows one :class:`Conversation` (a list of :class:`Step`) from a weighted :class:`TrafficMix`,
repeating it until it has sent its quota of messages. Each step names its channel; a channel is an async
function registered in :data:`CHANNELS` that sends one step for one :class:`Shopper` and returns an
:class:`Outcome`: Rasa's REST channel, socket.io (the shopper keeps one connection, as the widget does) and
``/model/parse``. Beside the shoppers, :class:`ApiTraffic` clients post shop events and fetch
recommendations through the shop API at a steady rate (issue 21: shop traffic beside the chat).
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import aiohttp
import socketio

from benchmarks.load_stats import UNFINISHED, Outcome
from daogou_server.socketio_client import SocketIOChat

#: The channels a shopper chats over; the others (``parse``, the shop API's) are not chat messages.
CHAT_CHANNELS = ("rest", "socketio")


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

    def over(self, channel_name: str) -> "Conversation":
        """The same conversation with every step sent over ``channel_name``."""
        return Conversation(f"{self.name}-{channel_name}",
                            tuple(dataclasses.replace(step, channel=channel_name) for step in self.steps))


@dataclass(frozen=True)
class TrafficMix:
    """Conversations with integer weights; shopper ``i`` gets a fixed one, so a run is repeatable and a mix
    of weights 3:1 over 4 shoppers gives exactly 3 and 1."""

    entries: Tuple[Tuple[int, Conversation], ...]
    #: Every ``socketio_every``-th shopper (0, k, 2k, ...) says its conversation over socket.io; 0: none does.
    #: Pick it coprime with the number of conversations so socket.io shoppers get every conversation.
    socketio_every: int = 0

    def __post_init__(self) -> None:
        if not self.entries or any(weight < 1 for weight, _ in self.entries):
            raise ValueError("a traffic mix needs at least one conversation, each with a weight >= 1")
        if self.socketio_every < 0:
            raise ValueError("socketio_every must be 0 (none) or positive")

    def for_shopper(self, index: int) -> Conversation:
        wheel = [conversation for weight, conversation in self.entries for _ in range(weight)]
        conversation = wheel[index % len(wheel)]
        return conversation.over("socketio") if self.socketio_every and index % self.socketio_every == 0 else conversation

    @property
    def channels(self) -> List[str]:
        found = {step.channel for _, c in self.entries for step in c.steps}
        return sorted(found | ({"socketio"} if self.socketio_every else set()))


@dataclass(frozen=True)
class Endpoints:
    """Where a target listens: ``urls[service]`` is a base URL (``"rasa"``; ``"shop_api"`` when it runs one)."""

    urls: Mapping[str, str]
    #: Rasa's HTTP API token (``/model/parse`` needs it when the server was started with one).
    rasa_token: Optional[str] = None
    #: The shop API's token (posting events needs it).
    api_token: Optional[str] = None

    def __getitem__(self, service: str) -> str:
        return self.urls[service]


@dataclass
class Shopper:
    """One simulated shopper (or shop API client): who speaks, where, and the connection it keeps open."""

    session: aiohttp.ClientSession
    endpoints: Endpoints
    sender: str
    timeout_s: float
    chat: Optional[SocketIOChat] = None
    _hanging_up: List["asyncio.Task[None]"] = field(default_factory=list)

    async def close(self) -> None:
        if self.chat is not None:
            await self.chat.close()
            self.chat = None
        await asyncio.gather(*self._hanging_up)
        self._hanging_up.clear()

    async def renew(self, sender: str) -> None:
        """A new shopper on the same seat (the soak): new sender id, new socket.io session. The old session
        hangs up in the background (a disconnect may wait out a long-poll), so the seat does not idle."""
        if self.chat is not None:
            self._hanging_up.append(asyncio.create_task(self.chat.close()))
            self.chat = None
        self.sender = sender


Channel = Callable[[Shopper, Step], Awaitable[Outcome]]


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def _timed(session: aiohttp.ClientSession, method: str, url: str, timeout_s: float,
                 check: Callable[[object], Optional[str]], **kwargs) -> Outcome:
    """One HTTP request; the answer is good when it is 200, JSON, and ``check`` finds nothing wrong in it."""
    started = time.perf_counter()
    try:
        async with session.request(method, url, timeout=aiohttp.ClientTimeout(total=timeout_s), **kwargs) as response:
            body = await response.read()
            elapsed = _elapsed_ms(started)
            if response.status != 200:
                return Outcome(elapsed, f"http {response.status}")
            try:
                data = json.loads(body)
            except ValueError:
                return Outcome(elapsed, "not json")
            return Outcome(elapsed, check(data))
    except asyncio.TimeoutError:
        return Outcome(_elapsed_ms(started), "timeout")
    except aiohttp.ClientError as exc:
        return Outcome(_elapsed_ms(started), f"connection: {type(exc).__name__}")


def _reply_problem(data: object) -> Optional[str]:
    if not isinstance(data, list):
        return "not a reply list"
    return None if data else "empty reply"


def _parse_problem(data: object) -> Optional[str]:
    return None if isinstance(data, dict) and isinstance(data.get("intent"), dict) else "no intent"


def _stored_problem(data: object) -> Optional[str]:
    return None if isinstance(data, dict) and data.get("stored") == 1 else "not stored"


def _products_problem(data: object) -> Optional[str]:
    return None if isinstance(data, dict) and isinstance(data.get("products"), list) else "no products list"


async def rest_turn(shopper: Shopper, step: Step) -> Outcome:
    """One message over Rasa's REST channel: good when at least one reply comes back."""
    return await _timed(shopper.session, "POST", f"{shopper.endpoints['rasa']}/webhooks/rest/webhook",
                        shopper.timeout_s, _reply_problem, json={"sender": shopper.sender, "message": step.text})


async def socketio_turn(shopper: Shopper, step: Step) -> Outcome:
    """One message over socket.io on the shopper's own connection (opened on its first message, the
    connection's set-up counted in that message's time): good when the turn brings at least one reply."""
    started = time.perf_counter()
    try:
        if shopper.chat is None:
            shopper.chat = SocketIOChat(shopper.endpoints["rasa"], shopper.sender, shopper.timeout_s)
            try:
                await shopper.chat.connect()
            except BaseException:
                shopper.chat = None
                raise
        replies = await shopper.chat.say(step.text, shopper.timeout_s)
    except asyncio.TimeoutError:
        await shopper.close()  # a late answer must not arrive as the next turn's
        return Outcome(_elapsed_ms(started), "timeout")
    except (socketio.exceptions.SocketIOError, aiohttp.ClientError, OSError) as exc:
        await shopper.close()
        detail = f": {exc}"[:60] if isinstance(exc, socketio.exceptions.SocketIOError) and str(exc) else ""
        return Outcome(_elapsed_ms(started), f"connection: {type(exc).__name__}{detail}")
    return Outcome(_elapsed_ms(started), _reply_problem(replies))


async def parse(shopper: Shopper, step: Step) -> Outcome:
    """``/model/parse`` (NLU only, no dialogue, no tracker): good when an intent comes back."""
    token = f"?token={shopper.endpoints.rasa_token}" if shopper.endpoints.rasa_token else ""
    return await _timed(shopper.session, "POST", f"{shopper.endpoints['rasa']}/model/parse{token}", shopper.timeout_s,
                        _parse_problem, json={"text": step.text})


async def post_event(shopper: Shopper, step: Step) -> Outcome:
    """A shop event (``step.text``: the product viewed) through the shop API with its token: good when stored."""
    event = {"event_id": uuid.uuid4().hex, "user_id": shopper.sender, "type": "view", "product_id": step.text}
    return await _timed(shopper.session, "POST", f"{shopper.endpoints['shop_api']}/v1/events", shopper.timeout_s,
                        _stored_problem, json=event, headers={"Authorization": f"Bearer {shopper.endpoints.api_token}"})


async def recommendations(shopper: Shopper, step: Step) -> Outcome:
    """The shopper's recommendations from the shop API: good when a product list comes back."""
    return await _timed(shopper.session, "GET", f"{shopper.endpoints['shop_api']}/v1/recommendations",
                        shopper.timeout_s, _products_problem, params={"user_id": shopper.sender, "k": "5"})


CHANNELS: Dict[str, Channel] = {"rest": rest_turn, "socketio": socketio_turn, "parse": parse, "events": post_event,
                                "recommendations": recommendations}


def channel(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; known: {', '.join(sorted(CHANNELS))}") from None


async def send(shopper: Shopper, step: Step) -> Outcome:
    """Send ``step`` over its channel; the outcome carries the channel and when it finished."""
    outcome = await channel(step.channel)(shopper, step)
    return dataclasses.replace(outcome, channel=step.channel, finished_at=time.monotonic())


#: Events a shop API client posts for one shopper before it goes on to the next.
API_EVENTS_PER_SHOPPER = 10


@dataclass(frozen=True)
class ApiTraffic:
    """Shop API clients beside the chat: ``clients`` of them, ``rate`` requests a second in all, each client
    posting a view of the next product and then fetching its shopper's recommendations, in turn, for a new
    shopper every :data:`API_EVENTS_PER_SHOPPER` events."""

    clients: int
    rate: float
    products: Tuple[str, ...]

    def __post_init__(self) -> None:
        if self.clients < 1 or self.rate <= 0 or not self.products:
            raise ValueError("shop API traffic needs at least one client, a positive rate and some products")


@dataclass(frozen=True)
class Pacing:
    """The soak's traffic: shoppers start a message no more often than ``rate`` a second in all, and a shopper who
    finished its conversation leaves for a new one (new sender) until ``duration_s`` has passed."""

    rate: float
    duration_s: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration_s <= 0:
            raise ValueError("a paced run needs a positive rate and duration")


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(1, connections)))


async def run_sequential(endpoints: Endpoints, steps: Sequence[Tuple[str, Step]], timeout_s: float) -> List[Outcome]:
    """One shopper at a time: each ``(sender, step)`` is sent when the one before has been answered."""
    for _, step in steps:
        channel(step.channel)
    outcomes = []
    async with _session(1) as session:
        for sender, step in steps:
            shopper = Shopper(session, endpoints, sender, timeout_s)
            try:
                outcomes.append(await send(shopper, step))
            finally:
                await shopper.close()
    return outcomes


class Ticker:
    """Hands out start times ``interval_s`` apart, to one caller or many: a caller late for its time starts at
    once and the next time counts from then, so a slow spell is not made up for with a burst."""

    def __init__(self, interval_s: float, first: Optional[float] = None):
        self.interval_s = interval_s
        self._next = time.monotonic() if first is None else first

    async def wait(self) -> None:
        now = time.monotonic()
        at = max(self._next, now)
        self._next = at + self.interval_s
        if at > now:
            await asyncio.sleep(at - now)


async def _api_client(index: int, api: ApiTraffic, shopper: Shopper, stop: asyncio.Event,
                      results: List[Outcome], send_step: Callable[[Shopper, Step], Awaitable[Outcome]]) -> None:
    interval = api.clients / api.rate
    ticker = Ticker(interval, time.monotonic() + index * interval / api.clients)  # clients spread over the interval
    prefix = shopper.sender
    for slot in range(10**9):
        await ticker.wait()
        if stop.is_set():
            return
        shopper.sender = f"{prefix}-{slot // (2 * API_EVENTS_PER_SHOPPER)}"  # a soak's shoppers do not grow without end
        product = api.products[(slot // 2 * api.clients + index) % len(api.products)]
        step = Step(product, "events") if slot % 2 == 0 else Step("", "recommendations")
        results.append(await send_step(shopper, step))


async def run_concurrent(endpoints: Endpoints, mix: TrafficMix, shoppers: int, messages: int, sender_prefix: str,
                         timeout_s: float, max_seconds: float, api: Optional[ApiTraffic] = None,
                         pacing: Optional[Pacing] = None,
                         on_outcome: Optional[Callable[[Outcome], None]] = None) -> Tuple[List[Outcome], float]:
    """``shoppers`` shoppers at once, each with its own sender id, each sending its next message as soon as the
    last is answered (no think time: the server's capacity, not a shop's traffic), ``messages`` each; ``api``
    clients beside them until the last shopper is done.

    With ``pacing`` (the soak) the shoppers together start ``pacing.rate`` messages a second at most, each
    taking the next slot when it is free, and a shopper at the end of its conversation is replaced by a new
    one, until ``pacing.duration_s`` has passed (``messages`` is then not used).

    ``on_outcome`` sees each outcome as it comes (the soak's per-minute figures).
    Returns every request's outcome (each with its channel) and the wall time. Messages not answered when
    ``max_seconds`` runs out are :data:`UNFINISHED` errors, so a run that hangs still ends and says so.
    """
    for _, conversation in mix.entries:
        for step in conversation.steps:
            channel(step.channel)  # an unknown channel fails before any traffic
    results: List[List[Outcome]] = [[] for _ in range(shoppers)]
    api_results: List[Outcome] = []
    started = time.monotonic()
    ticker = Ticker(1 / pacing.rate) if pacing else None

    async def shopper(index: int, session: aiohttp.ClientSession) -> None:
        seat = Shopper(session, endpoints, f"{sender_prefix}-{index}", timeout_s)
        conversation = mix.for_shopper(index)
        try:
            if pacing is None:
                for step in conversation.messages(messages):
                    results[index].append(await send_and_tell(seat, step))
                return
            for visit in range(10**9):
                if visit:
                    await seat.renew(f"{sender_prefix}-{index}-{visit}")
                for step in conversation.steps:
                    await ticker.wait()
                    if time.monotonic() - started >= pacing.duration_s:
                        return
                    results[index].append(await send_and_tell(seat, step))
        finally:
            await seat.close()

    async def send_and_tell(seat: Shopper, step: Step) -> Outcome:
        outcome = await send(seat, step)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    stop = asyncio.Event()
    async with _session(shoppers + (api.clients if api else 0)) as session:
        tasks = [asyncio.create_task(shopper(i, session)) for i in range(shoppers)]
        clients = [asyncio.create_task(_api_client(i, api, Shopper(session, endpoints, f"{sender_prefix}-api-{i}",
                                                                   timeout_s), stop, api_results,
                                                        send_and_tell))
                   for i in range(api.clients)] if api else []
        done, pending = await asyncio.wait(tasks, timeout=max_seconds)
        stop.set()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a bug in the runner itself should not pass as a measurement
        wall = time.monotonic() - started
        await asyncio.gather(*clients)  # each finishes the request in flight
    outcomes = [outcome for shopper_results in results for outcome in shopper_results]
    if pacing is None:
        for index, shopper_results in enumerate(results):
            left = mix.for_shopper(index).messages(messages)[len(shopper_results):]
            outcomes += [Outcome(None, UNFINISHED, step.channel) for step in left]
    return outcomes + api_results, wall
