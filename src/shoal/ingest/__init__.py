"""The one ingest path: importers (and later the collector) turn input into Reports; ``ingest`` stores them."""
