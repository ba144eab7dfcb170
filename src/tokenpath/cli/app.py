"""Entry point: the ``tokenpath`` command group.

Subcommands live in one module each and are imported only when used, so ``tokenpath probe``
does not pay for the mock server's imports.
"""

from __future__ import annotations

import importlib
import sys

import click

from tokenpath import __version__
from tokenpath.errors import TokenpathError

# name -> (module, attribute). Order is the order of ``tokenpath --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("tokenpath.cli.demo", "demo"),
    "probe": ("tokenpath.cli.probe", "probe"),
    "mock": ("tokenpath.cli.mock", "mock"),
    "simulate": ("tokenpath.cli.simulate", "simulate"),
    "lint": ("tokenpath.cli.lint", "lint"),
    "fix": ("tokenpath.cli.fix", "fix"),
    "rules": ("tokenpath.cli.rules", "rules"),
    "explain": ("tokenpath.cli.rules", "explain"),
}

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tokenpath")
def cli() -> None:
    """Find out what the path between your LLM server and your users does to the token stream.

    Exit codes: 0 streaming / clean, 1 a verdict other than STREAMING or findings, 2 usage,
    input or connection error.
    """


def main() -> None:
    try:
        # Commands return their exit code; with standalone_mode off click hands it back.
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except TokenpathError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
