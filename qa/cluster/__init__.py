"""Sharded archives on a Ray cluster: N archive folders (shards) under one folder, and the
cluster manifest that routes articles to them.

Importing this package imports nothing of Ray: ``manifest`` and ``routing`` read a cluster
without it; ``engine`` and ``ingest`` need the ``cluster`` extra (``pip install
'dateline[cluster]'``). The embedded default, one archive folder in one process, never
imports any of it.
"""
