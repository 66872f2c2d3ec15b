"""Dagster code location of ogi-warehouse: assets, checks, schedules and sensors."""
