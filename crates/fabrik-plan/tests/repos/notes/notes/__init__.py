"""A small note keeper."""

__version__ = "0.2.0"
