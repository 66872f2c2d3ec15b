"""Resources and the executor, alone in this module.

Dagster's defs-folder loader takes only what a module's ``@dg.definitions`` function returns
and ignores everything else defined in that module, so this module holds nothing else
(docs/STACK.md).
"""
from __future__ import annotations

import dagster as dg

from orchestration.dbt_project import DBT_EXECUTABLE, OfflineDbtCliResource, dbt_project


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"dbt": OfflineDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
        # one process: each step of the multiprocess executor re-imports the code location (~5 s)
        executor=dg.in_process_executor,
    )
