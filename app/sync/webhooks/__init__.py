"""HubSpot webhooks: checked and stored by the receiver, routed to targeted runs by the worker.

verify.py      is the request really from HubSpot? (signature v3, or legacy v1/v2)
events.py      the event batch as HubSpot sends it, parsed only after the check
store.py       store a batch once per (portal, event id), answer at once
repository.py  the SQL: insert-or-ignore, claim, settle
routing.py     which interface and object mapping an event concerns, or why none does
custom_types.py  custom object names → type ids, from each connection's schema API (cached)
worker.py      the scheduler job: debounce, one targeted run per interface, retries
"""
