"""The chaos suite's harness (scratch PostgreSQL, proxy, worker fleet, faults, report), shared by
`bench/chaos.py` and `tests/acceptance/test_chaos.py`."""
