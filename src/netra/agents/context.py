"""Fitting a thread's history into a model's context window: the oldest turns go first,
the system prompt and the new message always stay.

Token counts are estimates (about four characters a token, plus a few tokens of framing
per message): the model servers Netra speaks to do not share one tokenizer, and an
estimate that errs large keeps a request under the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from netra.agents.runtime import ChatTurn

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD


@dataclass(frozen=True)
class Fitted:
    history: list[ChatTurn]
    dropped: int
    budget: int


def fit_history(
    history: Sequence[ChatTurn],
    *,
    context_window: int,
    reserved: int,
    fixed: Sequence[str],
) -> Fitted:
    """The newest turns of `history` that fit beside `fixed` (the system prompt, the new
    message, the tools' schemas) and `reserved` tokens for the answer."""
    budget = context_window - reserved - sum(estimate_tokens(text) for text in fixed)
    kept: list[ChatTurn] = []
    used = 0
    for turn in reversed(history):
        cost = estimate_tokens(turn.content)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return Fitted(kept, len(history) - len(kept), budget)
