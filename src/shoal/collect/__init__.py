"""The collector: an asyncio connect scan that finds open TCP ports (and UDP ones, by probing them, when asked) and
identifies what speaks on them.

targets.py     TARGETS and --ports into addresses and port numbers
policy.py      the allow-list, the deny-list and the global rate cap (DATA/collector.toml, --allow)
ratelimit.py   token buckets: new connections per second, prioritize calls per token
connection.py  opening connections and UDP exchanges (policy, rate, per-host limits, timeouts) and capped reads
datagrams.py   one UDP exchange: a socket per target, ICMP errors as closed or filtered, answers capped
probes/        one module per protocol; the registry in probes/__init__.py orders them
identify.py    which probes to try on a port, and in what order; stops at the first match
udp/           the UDP probes (one module per protocol, a registry) and their plan (udp/identify.py)
scanner.py     Collector: discovery + identification of many ip:ports, bounded concurrency, stats
storing.py     StoreWriter: observations and reports into the store in batches, searchable at once
worker.py      CollectionWorker: a Collector on its own thread inside ``shoal serve`` (prioritize, rescans)
"""
