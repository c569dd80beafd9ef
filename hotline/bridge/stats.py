"""Counters the bridge keeps about itself: events, latency from socket to published live state."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LatencyStats:
    """Latency per event, recorded per batch (every event of a batch shares its batch's latency)."""

    #: Keep at most this many batches; older ones are dropped (the figures describe recent traffic).
    max_batches: int = 100_000
    samples: list[tuple[float, int]] = field(default_factory=list)
    events: int = 0

    def add(self, latency_s: float, count: int) -> None:
        self.events += count
        self.samples.append((latency_s, count))
        if len(self.samples) > self.max_batches:
            del self.samples[: len(self.samples) // 2]

    def percentile(self, fraction: float, last: int | None = None) -> float | None:
        """The latency below which `fraction` of the recorded events fell (of the `last` batches only)."""
        samples = self.samples if last is None else self.samples[-last:]
        if not samples:
            return None
        ordered = sorted(samples)
        total = sum(count for _, count in ordered)
        threshold = fraction * total
        seen = 0
        for latency, count in ordered:
            seen += count
            if seen >= threshold:
                return latency
        return ordered[-1][0]

    def reset(self) -> None:
        self.samples.clear()
        self.events = 0
