"""Sentence vectors kept on disk by text, so retraining after a data edit encodes only the new examples.

Encoding the training examples is most of `rasa train`'s time (~10 ms a message on one core). Rasa's own
cache helps only when no NLU example changed; this one is keyed by the text itself (and the encoder
variant), so adding ten examples encodes ten. It is a pure memo: deleting it changes nothing but time.
It lives under `$DAOGOU_VAR_DIR/cache` (default `var/cache` in the checkout), is written atomically,
and an unreadable file is ignored and rewritten.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, Sequence

import numpy as np
from tqdm import tqdm

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_path(variant: str) -> Path:
    var_dir = Path(os.environ.get("DAOGOU_VAR_DIR") or PROJECT_ROOT / "var")
    return var_dir / "cache" / f"sentence_vectors_{variant}.npz"


def _read(path: Path) -> Dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return dict(zip(arrays["texts"].tolist(), arrays["vectors"]))
    except (OSError, KeyError, ValueError):
        return {}


def _write(path: Path, vectors: Dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = sorted(vectors)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, texts=np.array(texts), vectors=np.vstack([vectors[t] for t in texts]))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def cached_vectors(texts: Sequence[str], encode: Callable[[list], np.ndarray], path: Path,
                   batch_size: int = 256, progress: bool = True) -> Dict[str, np.ndarray]:
    """Vectors for every distinct text, encoding (with a progress bar and the time left) only the unknown ones."""
    known = _read(path)
    missing = sorted(set(texts) - set(known))
    if missing:
        with tqdm(total=len(missing), desc="sentence vectors", unit="msg", mininterval=2.0,
                  disable=not progress) as bar:
            for start in range(0, len(missing), batch_size):
                batch = missing[start:start + batch_size]
                known.update(zip(batch, encode(batch)))
                bar.update(len(batch))
        _write(path, known)
    return {text: known[text] for text in set(texts)}
