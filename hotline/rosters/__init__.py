"""Duty rosters (值班表): who is on duty when, in which queues, speaking which languages.

Pure rules, standard library only: `model` (shifts and local times), `cells` (one cell: headers,
dates, times, lists), `lookups` (lawyers and queues by the names a roster uses), `validate` (rows to
shifts with every error), `membership` (desired queue members and the plan that gets Asterisk
there), `coverage` (gaps and overlaps against
service hours).

Adapters: `reader` (CSV/XLSX bytes to rows), `store` (the duty_shifts table), `service_hours`
(config to the pure lookups), `service` (handlers the CLI and API share), `reconciler` (the bridge's
loop over AMI), `cli`. The API is `hotline/api/routes/rosters.py`.
"""
