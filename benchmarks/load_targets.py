"""The assistants the load benchmark measures, and what shoppers say to each.

A :class:`Target` is everything the runner needs: the servers to start (in order), where they listen, the
model file, and the traffic (parse texts, single-shopper turns, the concurrent mix). ``daogou`` starts the
servers the way ``make run`` does (:mod:`daogou_server.stack`), with a temporary conversation store and event database so
a run changes nothing in the checkout; ``rasa-init`` is the bare ``rasa init`` bot (its own tiny DIET + TED
model, no custom actions), the yardstick issue 17 sets Daogou's throughput against. ``daogou`` with
``production=True`` is the production profile (two of each behind nginx, PostgreSQL and Redis, as
``make run-production``); its data stores start before its servers (:attr:`Target.stores`).
"""
from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks.load_servers import LOOPBACK, ServerSpec, free_port
from benchmarks.load_traffic import Conversation, Endpoints, Step, TrafficMix
from daogou_server.production import ProductionSettings
from daogou_server.stack import QUIET_ENV, StackConfig
from daogou_server.stack import servers as stack_servers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Target:
    """One assistant under test. ``turns`` are single-shopper REST turns, each sent by a new shopper."""

    name: str
    description: str
    model_path: Path
    servers: Tuple[ServerSpec, ...]
    endpoints: Endpoints
    main_server: str  # the Rasa server: its memory is the one issue 17 bounds
    parse_texts: Tuple[str, ...]
    turns: Tuple[Step, ...]
    mix: TrafficMix
    #: The production profile's PostgreSQL and Redis, started before the servers; None: none needed.
    stores: Optional[ProductionSettings] = None


class TargetError(RuntimeError):
    """A target cannot be started as asked (a missing model, a failed ``rasa init``); nothing was started."""


def _rasa_server(port: int, model: Path, credentials: Path, endpoints: Path, cwd: Path, env: Dict[str, str]) -> ServerSpec:
    """The yardstick bot's server: as Daogou's (:func:`daogou_server.stack.servers`) but with its own files."""
    return ServerSpec(
        "rasa", [str(BIN / "rasa"), "run", "--enable-api", "--interface", LOOPBACK, "--port", str(port),
                 "--model", str(model), "--credentials", str(credentials), "--endpoints", str(endpoints)],
        cwd, f"http://{LOOPBACK}:{port}/", {**QUIET_ENV, **env}, fatal_markers=("Could not load model",),
    )


# --- Daogou ---------------------------------------------------------------------------------------------------

# (category in English, in Chinese, budget): shoppers spread over categories so no cache sees one query only.
_SHOPPING = [("phone", "手机", 3000), ("laptop", "笔记本", 8000), ("headphones", "耳机", 1000), ("tablet", "平板", 3000)]
_FOLLOW_UPS = {
    "en": ["something cheaper", "tell me more about the second one", "compare the first two", "add the first one to my cart"],
    "zh": ["有没有更便宜的", "第二个详细介绍一下", "前两个对比一下", "把第一个加入购物车"],
}


def recommendation_request(language: str, category_en: str, category_zh: str, budget: int) -> str:
    return f"recommend me a {category_en} under {budget}" if language == "en" else f"推荐一款{budget}元以内的{category_zh}"


#: One shopper in five talks over socket.io, as the widget does (5 is coprime with the 8 conversations, so
#: socket.io shoppers cover every category in both languages); the others over REST.
SOCKETIO_EVERY = 5


def daogou_mix(socketio_every: int = SOCKETIO_EVERY) -> TrafficMix:
    """Ask for a category under a budget, then cheaper, the second one's details, compare, add to cart:
    every turn but the comparison's wording goes through the action server. Languages alternate by shopper;
    every ``socketio_every``-th shopper uses socket.io."""
    conversations = []
    for en, zh, budget in _SHOPPING:
        for language in ("en", "zh"):
            steps = [recommendation_request(language, en, zh, budget), *_FOLLOW_UPS[language]]
            conversations.append((1, Conversation(f"{en}-{language}", tuple(Step(text) for text in steps))))
    return TrafficMix(tuple(conversations), socketio_every)


DAOGOU_PARSE_TEXTS = (
    "recommend me a phone under 3000", "推荐一款3000元以内的手机", "something cheaper", "有没有更便宜的",
    "tell me more about the second one", "第二个详细介绍一下", "compare the first two", "iPhone 15和小米14哪个好",
    "add the first one to my cart", "把第一个加入购物车", "hello there", "你好", "how much is the iPhone 15",
    "anything similar to the Pixel 8?", "I don't like the first one", "删除我的数据", "how long does shipping take",
    "what's the weather like today", "any tablets under 2000?", "想买个笔记本，主要打游戏",
)


def product_questions(limit: int = 200) -> Tuple[str, ...]:
    """Questions about real catalog products by name, alternating languages and wordings: every one a text
    the server has not seen, as most of a shop's messages are. The NLU keeps the sentence vectors of texts it
    has seen (``daogou_nlu.sentence_encoder``), so a parse series that repeats a few phrases would time that
    memory rather than the encoder."""
    records = [json.loads(line) for line in (PROJECT_ROOT / "data/catalog/products.jsonl").read_text(encoding="utf-8").splitlines() if line]
    wordings = ("how much is the {en}", "{zh}多少钱", "tell me more about the {en}", "{zh}的电池怎么样",
                "is the {en} good for travel?", "有没有比{zh}便宜的")
    stride = max(1, len(records) // limit)
    return tuple(wordings[i % len(wordings)].format(**record["name"])
                 for i, record in enumerate(records[::stride][:limit]))


def daogou(workdir: Path, model: Path, recsys_models: Path, production: bool = False) -> Target:
    """Daogou as ``make run`` starts it (:mod:`daogou_server.stack`): the action server, the Rasa server
    with the given model and the shop API (its traffic runs beside the chat, and it counts in the stack's
    memory). ``production``:
    as ``make run-production`` (two Rasa and two action servers behind nginx, PostgreSQL, Redis)."""
    if not model.is_file():
        raise TargetError(f"no Rasa model at {model}: train one (`make models`) or pass --model")
    if not (recsys_models / "metadata.json").is_file():
        raise TargetError(f"no trained recommender in {recsys_models}: the action server would train one into it "
                          "while being measured; train it first (`make models`) or pass --recsys-models")
    # The shopper events and conversations the run writes go to a scratch folder.
    config = StackConfig(rasa_model=model, var_dir=workdir / "daogou-var", rasa_token=secrets.token_urlsafe(16),
                         api_token=secrets.token_urlsafe(16), rasa_port=free_port(), action_port=free_port(),
                         api_port=free_port(), recsys_model_dir=recsys_models,
                         production=ProductionSettings.free() if production else None)
    name, description, main = (("daogou-production", "Daogou, production profile (2 Rasa + 2 action servers behind "
                                "nginx, PostgreSQL, Redis; as `make run-production`)", "rasa-1") if production else
                               ("daogou", "Daogou (Rasa server + action server, as `make run`)", "rasa"))
    return Target(
        name, description, model, tuple(stack_servers(config)),
        Endpoints({"rasa": config.rasa_url, "shop_api": config.api_url}, config.rasa_token, config.api_token), main,
        DAOGOU_PARSE_TEXTS + product_questions(),
        tuple(Step(recommendation_request(language, *_SHOPPING[0])) for language in ("en", "zh")), daogou_mix(),
        stores=config.production,
    )


# --- the bare `rasa init` bot ---------------------------------------------------------------------------------

RASA_INIT_MIX = TrafficMix((
    (1, Conversation("happy", (Step("hello"), Step("I am feeling great"), Step("are you a bot?"), Step("bye")))),
    (1, Conversation("sad", (Step("hi there"), Step("I am sad"), Step("yes"), Step("goodbye")))),
))
RASA_INIT_PARSE_TEXTS = ("hello", "hi there", "I am feeling great", "I am sad", "my day was horrible", "yes", "no",
                         "are you a bot?", "goodbye", "good morning", "I am very happy", "not really")


def rasa_version() -> str:
    return importlib.metadata.version("rasa")


def rasa_init_bot(cache_root: Path, timeout_s: float = 3600) -> Path:
    """The folder of a trained ``rasa init`` project for this Rasa version, made (and trained) on first use.

    Cached under ``cache_root/rasa-init-<version>`` so repeated runs do not retrain it; it is built in a
    temporary folder beside that and renamed into place only when training succeeded.
    """
    bot = cache_root / f"rasa-init-{rasa_version()}"
    if list(bot.glob("models/*.tar.gz")):
        return bot
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="rasa-init-", dir=cache_root))
    logger.info("creating and training a `rasa init` bot in %s (once per Rasa version)", scratch)
    started = time.monotonic()
    try:
        result = subprocess.run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(scratch)],
                                cwd=scratch, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True,
                                timeout=timeout_s)
        if result.returncode != 0 or not list(scratch.glob("models/*.tar.gz")):
            raise TargetError(f"`rasa init` failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
        shutil.rmtree(bot, ignore_errors=True)
        scratch.rename(bot)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("`rasa init` bot trained in %.0f s", time.monotonic() - started)
    return bot


def rasa_init(workdir: Path, cache_root: Path) -> Target:
    """The bare ``rasa init`` bot with its own endpoints (no action server, conversations in memory)."""
    bot = rasa_init_bot(cache_root)
    model = sorted(bot.glob("models/*.tar.gz"))[-1]
    port = free_port()
    rasa = _rasa_server(port, model, bot / "credentials.yml", bot / "endpoints.yml", bot, {})
    return Target(
        "rasa-init", f"bare `rasa init` bot (Rasa {rasa_version()}, DIET + TED, no custom actions)", model, (rasa,),
        Endpoints({"rasa": f"http://{LOOPBACK}:{port}"}), "rasa", RASA_INIT_PARSE_TEXTS,
        (Step("hello"), Step("I am sad")), RASA_INIT_MIX,
    )


TARGET_NAMES: Sequence[str] = ("daogou", "daogou-production", "rasa-init")
#: Measured when ``--targets`` is not given: issue 17's comparison.
DEFAULT_TARGETS: Sequence[str] = ("daogou", "rasa-init")


def parse_target_names(text: str) -> List[str]:
    """``"daogou,rasa-init"`` -> the names, checked, in the given order, without repeats."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in TARGET_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown target(s) {unknown or text!r}; choose from {', '.join(TARGET_NAMES)}")
    return names
