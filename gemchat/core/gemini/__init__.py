"""The one place that talks to Gemini, through the `google-genai` SDK.

`GeminiBackend` (client.py) is what the rest of gemchat holds; behind it,
one job a module: sdk.py imports the SDK once, off the UI thread; stream.py
streams one answer (attempts, retries, the silence watchdog) with retry.py's
policy; uploads.py makes attachments ready (inline or the Files API); wire.py
builds the request's contents; closing.py closes what the SDK drops half-read.
"""

from gemchat.core.gemini.client import GeminiBackend
from gemchat.core.gemini.sdk import load_sdk_now
from gemchat.core.gemini.wire import build_contents, wire_contents

__all__ = ["GeminiBackend", "build_contents", "load_sdk_now", "wire_contents"]
