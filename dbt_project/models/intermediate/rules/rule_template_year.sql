-- The template a report uses against the one its year calls for: the form whose years
-- (ref_templates.first_year .. last_year, either open) cover the report's year. Both sides are
-- the template key as a number. Reports with no year, or a template no form knows, are not judged.
select
    r.report_id,
    'template_year' as rule,
    'report'        as table_name,
    'report'        as scope_kind,
    'template'      as scope,
    cast(r.template as double) as lhs,
    cast(f.template as double) as rhs,
    'template ' || r.template || ' = template for year ' || cast(r.year as varchar) as cells
from {{ ref('int_current_reports') }} as r
join {{ ref('ref_templates') }} as f
  on (f.first_year is null or r.year >= f.first_year)
 and (f.last_year is null or r.year <= f.last_year)
where r.year is not null
  and r.template in (select t.template from {{ ref('ref_templates') }} as t)
