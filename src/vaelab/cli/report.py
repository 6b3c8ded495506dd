"""``vaelab report``: one self-contained HTML page about a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vaelab.cli.choices import REPORT_EXAMPLES
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    out: Annotated[Path | None, Opt(help="output .html file (default: RUN_DIR/report.html)")] = None,
    max_examples: Annotated[int, Opt(help="examples of the run's data used for the figures")] = REPORT_EXAMPLES,
    seed: Annotated[int, Opt(help="seed of the example subset and of the samples")] = 0,
    redraw: Annotated[
        bool, Opt("--redraw", help="draw every figure again (else those of an unchanged model are kept)")
    ] = False,
    as_json: Annotated[bool, Opt("--json", help="print the result as JSON on stdout")] = False,
) -> None:
    """Write one self-contained HTML page about a run: curves, metrics, pictures, latent map, KL, traversals."""
    if out is not None and out.suffix.lower() not in {".html", ".htm"}:
        raise UserError(f"--out must end in .html, got {out.name}")
    from vaelab.report.build import write_report

    written = write_report(run_dir, out, max_examples=max_examples, seed=seed, redraw=redraw)
    if as_json:
        emit_json({"report": str(written)})
    else:
        say(f"wrote {written}")
