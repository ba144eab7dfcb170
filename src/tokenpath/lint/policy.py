"""The user's expectations, which turn "timeout too short" into "shorter than your longest
generation". Loaded from ``.tokenpath.yaml`` (or ``--policy FILE``) by ``lint.files``;
the defaults below apply when there is no file."""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lint.finding import Severity


@dataclass(frozen=True, slots=True)
class Policy:
    # Longest silence the stream may have: time to first token (queue + prefill) or a pause
    # between tokens (tool calls, reasoning without output). Idle/read timers must exceed it.
    max_silence_s: float = 300.0
    # Longest generation, request to last token. Total/route timers must exceed it.
    max_generation_s: float = 900.0
    # Whether compressing token streams is acceptable at all.
    compression_allowed: bool = False
    # Smallest request body an LLM route must accept (long prompts, images, tool schemas).
    min_body_bytes: int = 32 * 1024 * 1024
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    disabled: tuple[str, ...] = ()

    def severity_for(self, code: str, default: Severity) -> Severity:
        for rule_code, severity in self.severity_overrides:
            if rule_code == code:
                return severity
        return default
