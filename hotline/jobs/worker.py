"""The context a job runs with when rq calls it without one: built once per worker process."""

from __future__ import annotations

import functools

from hotline.bootstrap import Context, build_context


@functools.cache
def worker_context() -> Context:
    """One context per worker process, built on first use from the same settings as the service."""
    return build_context()
