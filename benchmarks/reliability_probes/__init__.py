"""The reliability benchmark's probes, by group (run by ``benchmarks/reliability.py``)."""
