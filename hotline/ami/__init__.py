"""Asterisk Manager Interface: framing, the bridge's connection and its actions."""
