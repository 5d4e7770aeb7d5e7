"""A workspace app that exists only for the fleet-migration benchmark (bench/control_plane_fleet.py).

It is installed by ``bench.fleet_probe.settings`` alone, never by the product's settings. Its
second migration is the "one new migration" the benchmark applies to every workspace: a column
with an index on a small table, the most common shape of a schema change.
"""
