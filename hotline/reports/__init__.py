"""The read side: queries that report and never change a ticket or a call.

`kpi.py` (queue KPIs and their hourly rollup), `tables.py` (a report as a table, downloaded as
CSV or XLSX), `live.py` (the live wallboard from Redis, as the API and the feed show it).
"""
