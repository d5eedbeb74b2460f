"""Agent providers, each behind the one `Agent` interface: `builtin`, `openai`, `local`."""
