"""Sentence vectors kept on disk, so training encodes only the texts it has never seen.

Encoding the training examples is the longest step of `rasa train`'s NLU part. Rasa's own
cache helps only when no NLU example changed; this one is keyed by each text (and the encoder variant), so
adding ten examples encodes ten. It is a pure memo: deleting it changes nothing but time.

Two files are read: the machine's own, under `$DAOGOU_VAR_DIR/cache` (default `var/cache`), written
atomically (an unreadable file is ignored and rewritten), and the one shipped with the project
(`data/sentence_vectors/`, refreshed by `scripts/ship_sentence_vectors.py`), so that a fresh checkout's
first training encodes only what changed since it was shipped: issue 17 asks for a first answer within
three minutes of the install, and encoding the 13,500 training texts on two threads takes ~14 s with the engine
built for the machine but ~64 s with the wheel's, which runs where there is no C compiler
(`benchmarks/results/encoder_speed/`: 982 and 212 texts a second).

A text is keyed by its 128-bit BLAKE2 digest, not stored: the shipped file holds numbers, not the
messages of the corpora it was computed from. Vectors are kept at half precision (a 384-float vector in
768 bytes) and a freshly encoded one is rounded the same way before it is used, so a model trained from
the memo is the model trained without it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Sequence

import numpy as np
from tqdm import tqdm

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIR = PROJECT_ROOT / "data" / "sentence_vectors"
STORED_DTYPE = np.float16


def text_key(text: str) -> bytes:
    """The 16-byte BLAKE2 digest a text's vector is kept under (in memory and on disk)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def default_path(variant: str) -> Path:
    var_dir = Path(os.environ.get("DAOGOU_VAR_DIR") or PROJECT_ROOT / "var")
    return var_dir / "cache" / f"sentence_vectors_{variant}.npz"


def shipped_path(variant: str) -> Path:
    return SHIPPED_DIR / f"{variant}.npz"


def stored(vectors: np.ndarray) -> np.ndarray:
    """Vectors as the memo keeps them (half precision), back as float32."""
    return np.asarray(vectors).astype(STORED_DTYPE).astype(np.float32)


def read(path: Path) -> Dict[bytes, np.ndarray]:
    """Digest -> vector (float32) of one file; {} for a missing, unreadable or old-format file."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            keys, vectors = arrays["keys"], arrays["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    return {bytes(key): vector.astype(np.float32) for key, vector in zip(keys, vectors)}


def write(path: Path, vectors: Dict[bytes, np.ndarray], compressed: bool = False) -> None:
    """Atomically replace ``path`` with these vectors, in digest order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(vectors)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    save = np.savez_compressed if compressed else np.savez
    try:
        with os.fdopen(handle, "wb") as file:
            save(file, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16),
                 vectors=np.vstack([vectors[k] for k in keys]).astype(STORED_DTYPE))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def cached_vectors(texts: Sequence[str], encode: Callable[[list], np.ndarray], path: Path,
                   batch_size: int = 256, progress: bool = True,
                   seeds: Iterable[Path] = ()) -> Dict[str, np.ndarray]:
    """Vectors for every distinct text, encoding (with a progress bar and the time left) only those neither
    ``path`` nor a ``seeds`` file knows; what was encoded, or found only in a seed, is added to ``path``."""
    own = read(path)
    known = dict(own)
    for seed in seeds:
        for key, vector in read(seed).items():
            known.setdefault(key, vector)
    keys = {text: text_key(text) for text in set(texts)}
    missing = sorted(text for text, key in keys.items() if key not in known)
    if missing:
        with tqdm(total=len(missing), desc="sentence vectors", unit="msg", mininterval=2.0,
                  disable=not progress) as bar:
            for start in range(0, len(missing), batch_size):
                batch = missing[start:start + batch_size]
                known.update((keys[text], vector) for text, vector in zip(batch, stored(encode(batch))))
                bar.update(len(batch))
    if any(key not in own for key in keys.values()):
        write(path, {**own, **{key: known[key] for key in keys.values()}})
    return {text: known[key] for text, key in keys.items()}


def training_vectors(texts: Sequence[str], encode: Callable[[list], np.ndarray], variant: str,
                     batch_size: int = 256, progress: bool = True) -> Dict[str, np.ndarray]:
    """:func:`cached_vectors` with this machine's memo, seeded by the project's shipped one."""
    return cached_vectors(texts, encode, default_path(variant), batch_size, progress, seeds=[shipped_path(variant)])


def ship(texts: Sequence[str], encode: Callable[[list], np.ndarray], variant: str,
         path: Optional[Path] = None) -> Path:
    """Write the shipped memo: exactly these texts' vectors (from the memos, encoding the rest)."""
    vectors = training_vectors(texts, encode, variant)
    target = path or shipped_path(variant)
    write(target, {text_key(text): vector for text, vector in vectors.items()}, compressed=True)
    return target
