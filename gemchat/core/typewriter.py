"""Pacing of the typing effect.

The network delivers an answer in bursts: nothing for half a second, then
three hundred characters at once. Shown as they come, bursts read as jumps.
`Typewriter` holds what has arrived and lets it out at a steady pace instead,
speeding up when it falls behind so that no character is held back more than
`max_lag` seconds after it arrived. It is pure (time is passed in), so its
promises are unit- and property-tested without a clock or a widget.
"""

from __future__ import annotations

from collections import deque


class Typewriter:
    """Buffers arrived text and decides how much of it to reveal at each tick.

    Attributes:
        chars_per_second: the unhurried pace used when there is little backlog.
        max_lag: the longest any character waits between arriving and being shown.
        catch_up: seconds in which a backlog is worked off; the pace rises to
            `backlog / catch_up` when that is faster than `chars_per_second`.
    """

    def __init__(
        self, chars_per_second: float = 250.0, max_lag: float = 1.0, catch_up: float = 0.4
    ) -> None:
        if chars_per_second <= 0 or max_lag <= 0 or catch_up <= 0:
            raise ValueError("pace, lag and catch-up must be positive")
        self.chars_per_second = chars_per_second
        self.max_lag = max_lag
        self.catch_up = catch_up
        self._buffer = ""
        self._shown = 0  # characters of _buffer already revealed
        self._credit = 0.0  # fractional characters earned but not yet revealed
        self._last_tick: float | None = None
        # (arrival time, end offset) of each fed piece, oldest first, not yet fully shown
        self._arrivals: deque[tuple[float, int]] = deque()

    @property
    def pending(self) -> int:
        """Characters that have arrived but are not shown yet."""
        return len(self._buffer) - self._shown

    def feed(self, text: str, now: float) -> None:
        """Record text that arrived at time `now` (seconds, any monotonic clock)."""
        if not text:
            return
        if self._last_tick is None or self.pending == 0:
            # Idle until now: the pace is measured from this arrival, not from
            # the last tick, so a long pause does not bank credit for a jump.
            self._last_tick = now
            self._credit = 0.0
        self._buffer += text
        self._arrivals.append((now, len(self._buffer)))

    def take(self, now: float) -> str:
        """The text to reveal at time `now`; call it on every frame."""
        if self.pending == 0:
            self._last_tick = now
            return ""
        elapsed = max(0.0, now - (self._last_tick if self._last_tick is not None else now))
        self._last_tick = now
        pace = max(self.chars_per_second, self.pending / self.catch_up)
        self._credit += elapsed * pace
        count = int(self._credit)
        self._credit -= count
        target = self._shown + count
        # The lag promise: everything that arrived max_lag ago must be out now.
        while self._arrivals and self._arrivals[0][0] <= now - self.max_lag:
            target = max(target, self._arrivals.popleft()[1])
        return self._reveal_to(target)

    def flush(self) -> str:
        """Everything not yet shown, at once: the answer ended or the user scrolled."""
        self._arrivals.clear()
        self._credit = 0.0
        return self._reveal_to(len(self._buffer))

    def _reveal_to(self, target: int) -> str:
        target = min(target, len(self._buffer))
        if target <= self._shown:
            return ""
        out = self._buffer[self._shown : target]
        self._shown = target
        while self._arrivals and self._arrivals[0][1] <= self._shown:
            self._arrivals.popleft()
        # Drop what is shown so the buffer does not grow with the answer.
        if self._shown > 4096:
            self._buffer = self._buffer[self._shown :]
            self._arrivals = deque((t, end - self._shown) for t, end in self._arrivals)
            self._shown = 0
        return out
