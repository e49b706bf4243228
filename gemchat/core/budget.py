"""How much work one step of the streaming renderer may take on, learnt from how long steps take.

A step that parses 400 characters of Markdown takes 0.5 ms on one machine and
4 ms on another, or on the same one with a long code block open; a fixed
amount either stutters there or crawls here. `StepBudget` keeps the amount
such that a step takes about `target_ms`: it shrinks after a slow step and
grows after quick ones, between fixed bounds. Pure (times are passed in), so
it is tested without a clock or a widget.
"""

from __future__ import annotations


class StepBudget:
    """An amount of work (characters) per step, adjusted to what steps cost.

    Attributes:
        value: the amount for the next step, within [low, high].
    """

    SHRINK = 0.7
    GROW = 1.15

    def __init__(self, initial: int, low: int, high: int, target_ms: float) -> None:
        if not 0 < low <= initial <= high or target_ms <= 0:
            raise ValueError("need 0 < low <= initial <= high and a positive target")
        self.low, self.high, self.target_ms = low, high, target_ms
        self.value = initial

    def observe(self, elapsed_ms: float, used: int) -> None:
        """A step that was given `value` used `used` of it and took `elapsed_ms`.

        A step that had less to do than it was allowed says nothing about a full
        one, unless it was slow anyway.
        """
        if elapsed_ms > self.target_ms:
            self.value = max(self.low, int(self.value * self.SHRINK))
        elif elapsed_ms < self.target_ms / 2 and used >= self.value:
            self.value = min(self.high, max(self.value + 1, int(self.value * self.GROW)))
