"""Test-only helpers, in plain modules (conftest files only declare fixtures).

What does not need pytest or the dev dependencies ships as `netra.testing`; what does
(asgi-lifespan, Playwright, pytest.fail) lives here, one module per area."""
