"""The ``ogi`` command line: parse reports, run the warehouse, start the UI.

Subcommands import what they need lazily so that ``ogi parse`` starts fast and
never loads Dagster or dbt.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def _root() -> None:
    """ogi-warehouse: government information disclosure annual reports as data."""


@app.command()
def parse(
    paths: list[Path] = typer.Argument(..., help="Report files, or folders to read every file below."),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON."),
    provenance: bool = typer.Option(False, "--provenance", help="Add each cell's raw token and position."),
) -> None:
    """Parse reports and print one JSON object per file (JSON Lines).

    A file that cannot be parsed prints {"source": ..., "error": ...}; the other
    files go on and the exit status is 1.
    """
    from ingestion.parse import iter_files, parse_file
    from ingestion.record import ParseError

    failed = False
    for path in iter_files(paths):
        try:
            obj = parse_file(path).to_json(provenance=provenance)
        except ParseError as exc:
            failed = True
            obj = {"source": str(path), "error": str(exc)}
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None) + "\n")
    sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
