"""Duty rosters (值班表): who is on duty when, in which queues, speaking which languages.

Pure rules, no I/O: `model` (shifts, times), `cells` (reading one cell), `validate` (rows to shifts
with every error), `membership` (desired queue members and the plan to reach them), `queue_status`
(Asterisk's QueueStatus to actual members), `coverage` (gaps and overlaps against service hours).

Adapters: `reader` (CSV/XLSX bytes to a table), `store` (duty_shifts table), `directory` (config and
users to the pure lookups), `reconciler` (the bridge's loop over AMI), `cli`. The API is
`hotline/api/routes/rosters.py`.
"""
