"""A fund's public news as an Atom feed (RFC 4287), newest first, UTF-8."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

OPERATOR = "Kumiai"
"""The feed's author: the platform operator publishes every entry."""


@dataclass(frozen=True)
class FeedEntry:
    """One published news item: a stable id (a URN or URL), its text and its times."""

    id: str
    title: str
    summary: str
    link: str
    published: datetime
    updated: datetime


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return at


def atom_feed(
    *,
    feed_id: str,
    title: str,
    link: str,
    self_link: str,
    updated: datetime,
    entries: Sequence[FeedEntry],
    language: str = "ja",
) -> bytes:
    """The Atom document of ``entries``, newest first; valid with no entry too."""
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.link(href=link, rel="alternate")
    feed.link(href=self_link, rel="self")
    feed.updated(_aware(updated, "updated"))
    feed.author({"name": OPERATOR})
    # Fixed rather than the library's name and version, so output does not change on upgrade.
    feed.generator(OPERATOR)
    feed.language(language)
    for entry in entries:
        _aware(entry.published, "published")
        _aware(entry.updated, "updated")
    newest_first = sorted(
        entries, key=lambda entry: (entry.published, entry.updated, entry.id), reverse=True
    )
    for entry in newest_first:
        item = feed.add_entry(order="append")
        item.id(entry.id)
        item.title(entry.title)
        item.summary(entry.summary)
        item.link(href=entry.link, rel="alternate")
        item.published(entry.published)
        item.updated(entry.updated)
    document: bytes = feed.atom_str(pretty=True, encoding="UTF-8")
    return document
