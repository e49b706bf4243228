"""Qt objects between the widgets and the world; no widgets here.

`ChatSession` (chat_session.py) is what the window talks to. It composes the
chat list (chat_list.py), the conversation actions (conversation.py), the
answers streaming now (streams.py), one answer's life (generation.py) and
chat titles (titles.py).
"""

from gemchat.session.chat_session import ChatSession
from gemchat.session.generation import Generation

__all__ = ["ChatSession", "Generation"]
