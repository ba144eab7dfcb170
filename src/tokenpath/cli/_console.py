"""stdout for results, stderr for progress and errors; colour only on a terminal."""

from __future__ import annotations

import sys

import click


def use_color(option: bool | None) -> bool:
    """``--color/--no-color`` when given, else colour only when stdout is a terminal."""
    if option is not None:
        return option
    return sys.stdout.isatty()


def progress(message: str) -> None:
    """A progress line on stderr; silent when stderr is not a terminal (CI logs, pipes)."""
    if sys.stderr.isatty():
        click.echo(f"… {message}", err=True)


def out(text: str) -> None:
    click.echo(text)
