"""The mock's generated text: deterministic words, a pure function of the seed and position.

Content token ``index`` is the same word for a given seed however the tokens are grouped into
events, so a client can check the text it received against ``generate_text``.
"""

from __future__ import annotations

WORDS: tuple[str, ...] = (
    "the", "stream", "token", "proxy", "buffer", "latency", "model", "server", "request",
    "answer", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "then", "a",
    "packet", "arrives", "late", "because", "nginx", "held", "it", "for", "while", "of",
    "time", "every", "event", "is", "stamped", "with", "its", "send", "clock", "so",
    "we", "can", "see", "what", "path", "does", "to", "each", "byte", "on", "way",
    "café", "naïve", "über", "日本", "data", "flows", "through", "ingress", "gateway",
    "mesh", "timeout", "idle", "chunk",
)  # fmt: skip


def _mix(value: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


def token_index(seed: int, index: int) -> int:
    """Which entry of ``WORDS`` content token ``index`` (0-based) is, for ``seed``."""
    return _mix((seed * 0x100000001B3) ^ index) % len(WORDS)


def token_text(seed: int, index: int) -> str:
    """Content token ``index`` (0-based): a word, with a leading space after the first token."""
    word = WORDS[token_index(seed, index)]
    return word if index == 0 else " " + word


def generate_text(seed: int, count: int) -> str:
    """The full text of the first ``count`` tokens."""
    return "".join(token_text(seed, index) for index in range(count))
