{#-
  Incremental builds of per-report models: a nightly run recomputes the reports that changed,
  not the whole warehouse.

  A model configured with {{ config(**ogi_incremental('current_reports', dependents=true)) }}
  keeps a state table, incremental_state.<schema>__<model>__built: one row per report it was built from,
  (report_id, fingerprint, agency, year, code). On an incremental build, the pre-hook works out
  incremental_state.<schema>__<model>__scope, the reports to recompute:

    * the reports whose fingerprint changed since the last build (new, parsed again; for the
      marts also re-certified or no longer current), and the reports that are gone;
    * with dependents=true, the next year's reports of the same agencies, by agency_id (identity 5
      and the stock rule read the previous year's report of the same body);
    * every report, when the code of the model or of one of its ancestors (models and seeds,
      e.g. the rule models of int_identity_terms and what they read) changed (a fingerprint of
      the node checksums is kept in the state), or when there is no state yet.

  and deletes their rows; the model's SQL, filtered with ogi_in_scope('report_id') where it
  reads the reports a row belongs to, inserts them again; the post-hook rewrites the state and
  drops the scope. A failed build leaves the state as it was: the next build redoes the work.
  A change to a macro is not detected: run `dbt build --full-refresh` after one.

  Sources of the fingerprints (`kind`):
    current_reports  int_current_reports: parsed_at and agency_id (the state's agency column holds agency_id)
    dim_report       dim_report: parsed_at, the certification of each table, is_current
-#}

{% macro ogi_incremental(kind, dependents=false) %}
    {{ return({
        "materialized": "incremental",
        "incremental_strategy": "append",
        "pre_hook": "{{ ogi_incremental_pre('" ~ kind ~ "', " ~ dependents ~ ") }}",
        "post_hook": "{{ ogi_incremental_post('" ~ kind ~ "') }}",
    }) }}
{% endmacro %}


{% macro ogi_fingerprints(kind) -%}
    {%- if kind == 'current_reports' -%}
    {#- agency: the body's agency_id (the cross-year rules follow it); a report linked to another
        body (a new alias, say) is recomputed, with the next year's reports of both bodies -#}
    select report_id,
           coalesce(cast(parsed_at as varchar), '') || '|' || coalesce(agency_id, '') as fingerprint,
           agency_id as agency, year
    from {{ ref('int_current_reports') }}
    {%- elif kind == 'dim_report' -%}
    select report_id,
           coalesce(cast(parsed_at as varchar), '') || '|' || cast(certified_applications as varchar)
               || '|' || cast(certified_reviews as varchar) || '|' || cast(certified_proactive as varchar)
               || '|' || cast(is_current as varchar) as fingerprint,
           agency, year
    from {{ ref('dim_report') }}
    {%- else -%}
    {{ exceptions.raise_compiler_error("ogi_fingerprints: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}


{#- The state and scope tables live in their own schema, out of the analysts' way. -#}
{% macro ogi_side_relation(suffix) -%}
    {{ return(api.Relation.create(database=this.database, schema='incremental_state',
                                  identifier=this.schema ~ '__' ~ this.identifier ~ '__' ~ suffix)) }}
{%- endmacro %}


{#- The model's checksum and those of all its ancestors (models and seeds; sources and macros
    have none): a change anywhere upstream, not only in a direct parent, recomputes everything. -#}
{% macro ogi_code_fingerprint() -%}
    {%- set ancestors = [] -%}
    {%- do ogi_collect_ancestors(model.depends_on.nodes, ancestors) -%}
    {%- set parts = [model.checksum.checksum] -%}
    {%- for node in ancestors | sort -%}
        {%- do parts.append(graph.nodes[node].checksum.checksum) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join(','))) }}
{%- endmacro %}


{% macro ogi_collect_ancestors(node_ids, found) -%}
    {%- for node in node_ids -%}
        {%- if node in graph.nodes and node not in found -%}
            {%- do found.append(node) -%}
            {%- do ogi_collect_ancestors(graph.nodes[node].depends_on.nodes, found) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{% macro ogi_in_scope(column) -%}
    {#- (a unit test has no relation: it always tests the full build) -#}
    {%- if this is not none and is_incremental() -%}
    {{ column }} in (select report_id from {{ ogi_side_relation('scope') }})
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}


{% macro ogi_incremental_pre(kind, dependents) -%}
    {%- if is_incremental() -%}
    {%- set side = ogi_side_relation('built') -%}
    {%- set state = adapter.get_relation(database=side.database, schema=side.schema, identifier=side.identifier) -%}
    create schema if not exists {{ side.database }}.{{ side.schema }};
    create or replace table {{ ogi_side_relation('scope') }} as
    with now_reports as (
        {{ ogi_fingerprints(kind) }}
    ),
    {%- if state is none %}
    changed as (
        select report_id, agency, year from now_reports
        union all
        select distinct report_id, null as agency, null as year from {{ this }}
    )
    {%- else %}
    built as (
        select * from {{ state }}
    ),
    code_changed as (
        select count(*) > 0 as yes from built where code <> '{{ ogi_code_fingerprint() }}'
    ),
    changed as (
        -- new or changed reports (with their attributes now and, below, as built)
        select n.report_id, n.agency, n.year
        from now_reports as n
        left join built as b
          on b.report_id = n.report_id
         and b.fingerprint = n.fingerprint
        where b.report_id is null
           or (select yes from code_changed)
        union all
        select b.report_id, b.agency, b.year
        from built as b
        left join now_reports as n
          on n.report_id = b.report_id
         and n.fingerprint = b.fingerprint
        where n.report_id is null
           or (select yes from code_changed)
    )
    {%- endif %}
    select report_id from changed
    {%- if dependents %}
    union
    select n.report_id
    from now_reports as n
    join (select distinct agency, year from changed where agency is not null and year is not null) as c
      on n.agency = c.agency
     and n.year = c.year + 1
    {%- endif %}
    ;
    delete from {{ this }} where report_id in (select report_id from {{ ogi_side_relation('scope') }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}


{% macro ogi_incremental_post(kind) -%}
    create schema if not exists {{ this.database }}.incremental_state;
    create or replace table {{ ogi_side_relation('built') }} as
    select report_id, fingerprint, agency, year, '{{ ogi_code_fingerprint() }}' as code
    from ({{ ogi_fingerprints(kind) }}) as now_reports;
    drop table if exists {{ ogi_side_relation('scope') }}
{%- endmacro %}
