"""Netra: a self-hostable AI chat platform (auth service, chat backend, agents)."""

__version__ = "0.1.0"
