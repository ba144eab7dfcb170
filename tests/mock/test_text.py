"""Generated text: deterministic words, pure."""

from __future__ import annotations

from tokenpath.mock.text import WORDS, generate_text, token_text


def test_text_is_a_deterministic_function_of_seed_and_index() -> None:
    assert token_text(3, 5) == token_text(3, 5)
    assert generate_text(3, 4) == "".join(token_text(3, i) for i in range(4))
    assert token_text(0, 0).strip() in WORDS
    assert token_text(0, 1).startswith(" ")
    assert generate_text(1, 50) != generate_text(2, 50)
