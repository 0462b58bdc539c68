"""The engine, the only place with policy: jobs, pool, retries, verify, journal, relay, bulk.
Imported by the CLI, ``scale/`` and ``partcopy``; imports planners, transports, providers.
"""
