-- Identity 1, per applicant column of table 3 (blank read as 0):
-- new_received + carried_over = total + carried_forward. Not judged for a table 3 with unread cells
-- (rule cells_unread says so instead).
select
    report_id,
    'identity_1_balance'  as rule,
    'applications'        as table_name,
    'column'              as scope_kind,
    applicant_type        as scope,
    coalesce(new_received, 0) + coalesce(carried_over, 0)       as lhs,
    coalesce(total_handled, 0) + coalesce(carried_forward, 0)   as rhs,
    'applications.new_received.' || applicant_type
        || ' + applications.carried_over.' || applicant_type
        || ' = applications.total.' || applicant_type
        || ' + applications.carried_forward.' || applicant_type  as cells
from {{ ref('int_applications') }}
where report_id not in (
    select u.report_id from {{ ref('int_unread_tables') }} as u where u.table_name = 'applications'
)
