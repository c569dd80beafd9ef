"""Every rq job, and how work reaches them.

Jobs are importable top-level functions that take ids and are safe to run twice. The core records
domain events in the outbox (ticketing/events.py); `events.py` here is the one map from an event to
its job, `outbox.py` relays committed events to rq, `scheduler.py` enqueues the periodic jobs, and
`worker.py` builds a worker's context. Nothing is imported here, so importing one job is cheap.
"""
