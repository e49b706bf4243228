"""gemchat: a desktop chat app for Google's Gemini models."""

__version__ = "0.1.0"
DESKTOP_ID = "io.github.gemchat.gemchat"
"""The desktop entry's name (without .desktop), AppStream's id: the window, the launcher and notifications agree on it."""
