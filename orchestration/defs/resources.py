"""Resources and the executor, alone in this module (STACK_NOTES P6)."""
from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import DBT_EXECUTABLE, dbt_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
        # one process: a multiprocess step re-imports the code location (~5 s each, P9)
        executor=dg.in_process_executor,
    )
