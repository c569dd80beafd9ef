"""12348 hotline service: Asterisk bridge, API, consoles, jobs and the command line."""
