"""Scale-out of bulk runs on Dask (the ``partcopy[dask]`` extra).

``run_bulk(client, manifest, ...)`` splits a manifest into one shard per worker, runs the
async bulk runner on each with its own journal shard and its share of the per-endpoint
budget, and merges the reports. ``local_client(n)`` starts a ``LocalCluster`` for it.
"""

from partcopy.scale.executor import local_client, run_bulk, shard_specs
from partcopy.scale.shard import ShardSpec, run_shard, shard_path

__all__ = ["ShardSpec", "local_client", "run_bulk", "run_shard", "shard_path", "shard_specs"]
