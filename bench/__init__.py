"""The `make bench-*` benchmarks, one module each: `python -m bench.ledger`,
`bench.teller`, `bench.payments`.

They stand outside the domain: they may import anything (the portals' session keys,
the app's WSGI server), and nothing in the bank imports them.
"""
