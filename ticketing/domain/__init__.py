"""The ticket domain: pure rules, standard library only, no I/O."""
