"""The call side's pure model: calls from AMI events (`call_tracker.py`) and the KPI formulas
(`kpi_formulas.py`). Standard library only, mypy strict, tested on recorded Asterisk 22 traces."""
