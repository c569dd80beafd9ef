"""The consoles' event feed: one Redis stream, written only through `append_to_feed`.

Entries are `{"data": JSON}`; the API's server-sent events (hotline/api/routes/feed.py) follow the stream.
Writers (the bridge's live publisher, the announce and transcription jobs) make sure an entry holds
no personal data: codes, statuses, stations, masked numbers.
"""

from __future__ import annotations

import json
from typing import Any

#: The stream the consoles follow; entries carry an id so a replay can be de-duplicated.
FEED_STREAM = "hotline:feed"
#: About this many entries are kept (approximate trimming, as XADD MAXLEN ~ does it).
FEED_MAXLEN = 10_000


def append_to_feed(client: Any, payload: dict[str, Any]) -> Any:
    """XADD one entry with `client`, a Redis client or pipeline, sync or async; returns what it returns."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return client.xadd(FEED_STREAM, {"data": data}, maxlen=FEED_MAXLEN, approximate=True)
