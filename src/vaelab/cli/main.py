"""The ``vaelab`` command: thin commands over the library.

A user error (``UserError``), and every other failure that input or the machine causes (an OS error, a
full disk, undecodable text: ``vaelab.errors.expected_failure``), is printed as one line on stderr with exit
code 1; ``--verbose`` adds the traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from vaelab.cli import evaluate, generate, info, train
from vaelab.cli.denoise import denoise
from vaelab.cli.detect import detect
from vaelab.cli.impute import impute
from vaelab.cli.report import report_command
from vaelab.cli.state import STATE
from vaelab.cli.synth import synth
from vaelab.cli.traverse import traverse_command
from vaelab.errors import expected_failure

app = typer.Typer(
    name="vaelab",
    help="Train, evaluate and apply variational autoencoders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: on/off flags without a metavar, text such as E_q[z|x] kept as written
    context_settings={"max_content_width": 110},
    add_completion=False,
)


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show tracebacks on errors")] = False,
) -> None:
    STATE.verbose = verbose


app.command("train")(train.train)
app.command("eval")(evaluate.evaluate)
app.command("sample")(generate.sample)
app.command("reconstruct")(generate.reconstruct)
app.command("interpolate")(generate.interpolate)
app.command("encode")(generate.encode)
app.command("detect")(detect)
app.command("synth")(synth)
app.command("impute")(impute)
app.command("denoise")(denoise)
app.command("traverse")(traverse_command)
app.command("report")(report_command)
app.command("env")(info.env)
app.add_typer(info.config_app, name="config")


VERBOSE_FLAGS = ("--verbose", "-v")


def verbose_first(argv: list[str]) -> list[str]:
    """``argv`` with ``--verbose``/``-v`` moved before the command, so it is accepted after it too
    (``vaelab train --verbose``); anything after a ``--`` is left as it is."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [arg for arg in argv[:end] if arg in VERBOSE_FLAGS]
    rest = [arg for arg in argv[:end] if arg not in VERBOSE_FLAGS]
    return flags + rest + argv[end:]


def main() -> None:
    try:
        app(args=verbose_first(sys.argv[1:]), prog_name="vaelab")
    except Exception as error:
        message = expected_failure(error)
        if message is None:
            raise
        if STATE.verbose:
            traceback.print_exc()
        print(f"error: {' '.join(message.splitlines())}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint is kept (continue with --resume --out RUN_DIR)", file=sys.stderr)
        sys.exit(130)
