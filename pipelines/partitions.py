"""One partition per society: sources appear at run time (dumps dropped in a folder, simulator runs),
so the set is dynamic rather than declared in code."""

from dagster import DynamicPartitionsDefinition

society_partitions = DynamicPartitionsDefinition(name="society")

WAREHOUSE_POOL = "warehouse_writer"  # every asset that writes the DuckDB file; limit 1 in dagster.yaml
