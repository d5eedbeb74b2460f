# The two commands of the README: `make up` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: up test test-slow check services uv screenshots

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv

## Install and start the whole platform (SQLite, in-process bus, dev keys, builtin agent).
up: uv
	@uv sync --frozen --no-dev --inexact --quiet
	@uv run --no-sync netra up --host $(HOST) --port $(PORT)

## Install what tests need, then lint, type-check and run the default suite.
test: uv services
	@uv sync --frozen --inexact --quiet
	uv run --no-sync ruff check src tests bench
	uv run --no-sync ruff format --check src tests bench
	uv run --no-sync mypy
	uv run --no-sync netra config docs --check
	uv run --no-sync pytest

## The slow tier (real LLM server, browser, multi-process); .ci/run runs it too.
test-slow: uv services
	@uv sync --frozen --inexact --quiet
	@scripts/install-local-llm
	uv run --no-sync pytest -m slow

## PostgreSQL and Redis, started if they are down (tests use them for real).
services:
	@scripts/ensure-services

## Regenerate docs/screenshots/ (sign-in, chat with timeline, sessions) in Debian's Chromium.
screenshots: uv
	@uv sync --frozen --quiet
	uv run --no-sync python -m tests.web.screenshots docs/screenshots
