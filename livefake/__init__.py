"""livefake: real-time face swap for calls, streams and recordings."""

__version__ = "0.1.0"
