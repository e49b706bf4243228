"""Whether a failed attempt is tried again, and after how long.

Only an attempt that has not yet shown the user a word is retried (the
stream decides that). The server's own `RetryInfo` delay, read from the error
body by `gemchat.core.errors.retry_delay`, arrives here as
`GemchatError.retry_after`.
"""

from __future__ import annotations

import random

from gemchat.core.errors import ErrorKind, GemchatError

RETRIED = frozenset({ErrorKind.QUOTA, ErrorKind.SERVER, ErrorKind.NETWORK})
"""Failures another attempt can cure: a busy or overloaded server, a dropped connection."""

LONGEST_WAIT = 60.0
"""Seconds of the server's delay still waited for: a daily quota says "come back in hours",
which would look like a hang; the user is told instead."""


def delay_before_retry(error: GemchatError, attempt: int, max_retries: int, backoff: float) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when retrying cannot help."""
    if attempt >= max_retries:
        return None
    if error.kind not in RETRIED or not error.retryable:
        return None
    if error.retry_after is not None:
        return error.retry_after if error.retry_after <= LONGEST_WAIT else None
    if error.kind is ErrorKind.QUOTA:
        return None if attempt >= 1 else backoff * 4
    return backoff * (2**attempt) * random.uniform(0.75, 1.25)
