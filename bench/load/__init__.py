"""``python -m bench.load``: the realistic load test (issue 13), loopback only, bounded.

See ``bench/load/__main__.py`` and docs/performance.md ("Load test").
"""
