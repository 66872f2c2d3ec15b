"""Package boundaries (docs/ARCHITECTURE.md): what ``ingestion`` may read and import."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INGESTION = REPO / "ingestion"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add("." * node.level + node.module)
    return names


def test_ingestion_reads_no_environment_and_imports_nothing_of_the_application() -> None:
    for path in sorted(INGESTION.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "environ" not in text and "getenv" not in text, f"{path.name} reads the environment"
        for name in _imports(path):
            top = name.lstrip(".").split(".")[0]
            assert top not in {"dagster", "dagster_dbt", "dbt", "great_expectations", "orchestration",
                               "expectations"}, f"{path.name} imports {name}"


def test_the_parser_does_not_use_the_synthetic_renderer() -> None:
    for path in sorted(INGESTION.glob("*.py")):
        assert not any("synthetic" in name for name in _imports(path)), path.name


def test_no_module_cites_files_outside_the_repository() -> None:
    outside = ("../" + "shared", "STACK" + "_NOTES")
    for folder in ("ingestion", "tests", "bench"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            assert not any(o in text for o in outside), f"{path.relative_to(REPO)} cites a file outside the repository"
