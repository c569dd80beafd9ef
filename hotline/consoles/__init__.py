"""Services behind the consoles' routes: the screen-pop, and the audit of what personal data a user saw."""
