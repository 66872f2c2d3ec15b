-- The cells of current reports (int_current_reports): what the identities, the quality gate
-- and the marts are built from.
select c.*
from {{ ref('stg_cells') }} as c
where c.report_id in (select cur.report_id from {{ ref('int_current_reports') }} as cur)
