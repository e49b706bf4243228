"""gemchat: a desktop chat app for Google's Gemini models."""

__version__ = "0.1.0"
