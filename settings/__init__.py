"""Shared configuration: process settings (`env.py`: HOTLINE_* over an optional TOML file), the
structured files in config/ (`files.py`, `routing.py`, `calendar.py`) and `ConfigError`.

Read by the edge (hotline) and the IVR alike; passed in, never read at import. Imports only the
ticket domain (for the types the files configure).
"""
