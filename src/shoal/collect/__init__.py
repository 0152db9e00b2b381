"""The collector: an asyncio connect scan that finds open TCP ports and identifies what speaks on them.

targets.py     TARGETS and --ports into addresses and port numbers
policy.py      the allow-list, the deny-list and the global rate cap (DATA/collector.toml, --allow)
ratelimit.py   token buckets: new connections per second, prioritize calls per token
connection.py  opening connections (policy, rate, per-host limits, timeouts) and capped reads
probes/        one module per protocol; the registry in probes/__init__.py orders them
identify.py    which probes to try on a port, and in what order; stops at the first match
scanner.py     Collector: discovery + identification of many ip:ports, bounded concurrency, stats
storing.py     StoreWriter: observations and reports into the store in batches, searchable at once
worker.py      CollectionWorker: a Collector on its own thread inside ``shoal serve`` (prioritize, rescans)
"""
