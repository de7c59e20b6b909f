"""The bundled credit-bureau simulator.

A real bank asks a credit information company for the applicant's score; this
adapter answers deterministically so that tests and demonstrations repeat: the
score is 650–900 (where most borrowers are), derived from the customer's CIF
number by a hash, the same every time it is asked.
"""

import hashlib

LOWEST, HIGHEST = 650, 900


def score_for(customer):
    digest = hashlib.sha256(f"cbs-bureau:{customer.cif}".encode()).digest()
    return LOWEST + int.from_bytes(digest[:4], "big") % (HIGHEST - LOWEST + 1)
