"""The conversation view: a chat's messages in one read-only rich-text document.

Answers are Markdown, rendered as they stream: `stream_renderer` inserts each
settled piece once and swaps only the unsettled tail, at most once a frame.
Opening a chat renders only its latest messages; `document` adds older ones
above as the user scrolls up. `blocks` holds the formats, `thoughts` an
answer's thought summary, `links` what a click does, `scrolling` following
the newest text. `view.ChatView` is the widget that ties them together.
"""

from gemchat.ui.chat_view.view import ChatView

__all__ = ["ChatView"]
