"""The builtin agent's planner: which tool a message asks for, with which arguments.

Deterministic rules over the text, no model: arithmetic, time, search and summary
requests are recognised; anything else gets no plan (the agent then says what it can do).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

# A run of arithmetic characters holding at least one operator between two operands.
_EXPRESSION = re.compile(
    r"[-+(]*\s*(?:\d[\d_.,]*|pi|sqrt|log10|log|exp|abs|round)"
    r"(?:[\s()]*(?:\*\*|//|[-+*/%^x\u00d7\u00f7])[\s(]*-?\s*(?:\d[\d_.,]*|pi|e|sqrt|log|exp|abs|round)[\s()]*)+"
    r"|\b(?:sqrt|log10|log|exp|abs|round|sin|cos|tan)\s*\([^)]*\)",
    re.IGNORECASE,
)
_ARITHMETIC_WORDS = re.compile(r"\b(calculate|compute|what is|what's|how much is|evaluate)\b", re.I)
_TIME = re.compile(
    r"\b(what time|the time|time is it|current time|what day|which day|today's date|"
    r"the date|date today|time now|time in)\b",
    re.IGNORECASE,
)
_ZONE = re.compile(r"\b((?:[A-Z][A-Za-z_]+/)+[A-Z][A-Za-z_-]+|UTC|GMT)\b")
_PLACE = re.compile(r"\bin\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")
_SUMMARY = re.compile(r"\b(summar(y|ize|ise)|recap|tl;?dr|sum up)\b", re.IGNORECASE)
_SEARCH = re.compile(
    r"\b(?:search(?:\s+my\s+(?:messages|threads|chats))?(?:\s+for)?|find(?:\s+messages)?"
    r"(?:\s+(?:about|with|mentioning))?|look\s+up|did\s+i\s+(?:mention|say|write|ask)"
    r"(?:\s+about)?|where\s+did\s+i\s+(?:mention|say|write))\s+(?P<query>.+)",
    re.IGNORECASE,
)
_QUOTES_AND_PUNCTUATION = " \t\"'\u201c\u201d\u2018\u2019?.!"


@dataclass(frozen=True)
class Plan:
    """One tool call and what the user asked for, as recognised."""

    intent: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)


def plan(message: str) -> Plan | None:
    """The tool call a message asks for, or None when it asks for none we have."""
    text = message.strip()
    if _SUMMARY.search(text):
        return Plan("summary", "summarize_thread")
    search = _SEARCH.search(text)
    if search:
        query = search.group("query").strip(_QUOTES_AND_PUNCTUATION)
        if query:
            return Plan("search", "search_messages", {"query": query[:200]})
    if _TIME.search(text):
        zone = _zone_in(text)
        return Plan("time", "current_time", {"timezone": zone} if zone else {})
    expression = _arithmetic(text)
    if expression is not None:
        return Plan("arithmetic", "calculator", {"expression": expression})
    return None


def _zone_in(text: str) -> str | None:
    """An IANA name as written (Europe/Paris), or a city the zone database names (Tokyo)."""
    zone = _ZONE.search(text)
    if zone:
        return zone.group(1)
    place = _PLACE.search(text)
    if place is None:
        return None
    name = place.group(1).strip()
    # An unknown place is passed on as is: the tool's error then names it.
    return _zones_by_city().get(name.replace(" ", "_").lower(), name)


@functools.cache
def _zones_by_city() -> dict[str, str]:
    """'tokyo' -> 'Asia/Tokyo', from the system's zone database (read once)."""
    zones = sorted(zoneinfo.available_timezones())
    return {zone.rsplit("/", 1)[-1].lower(): zone for zone in zones if "/" in zone}


def _arithmetic(text: str) -> str | None:
    match = _EXPRESSION.search(text)
    if match is None:
        return None
    expression = match.group(0).strip().rstrip("?=.")
    if not re.search(r"\d|pi", expression) or (
        not _ARITHMETIC_WORDS.search(text) and len(expression) < 3
    ):
        return None
    expression = expression.replace("^", "**").replace("\u00d7", "*").replace("\u00f7", "/")
    expression = re.sub(r"(?<=[\d\s)])x(?=[\s\d(])", "*", expression)
    expression = re.sub(r"(?<=\d),(?=\d{3}\b)", "", expression)
    return expression.strip()
