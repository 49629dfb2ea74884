"""Channel names within Slack's rules: lowercase letters, digits, ``-`` and ``_``, ≤ 80 chars."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from slugify import slugify

MAX_NAME = 80
# Room for "crisis-yyyymmdd-" (16) and a "-NNN" suffix when the name is taken.
MAX_SLUG = MAX_NAME - 16 - 4
# Scripts written without vowels (Hebrew, Arabic, Syriac…): transliterated, they are strings of
# consonants nobody can read ("lqvkh-khshvb"), so they are left out of the slug.
_ABJADS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+")


def customer_slug(customer: str) -> str:
    """A readable Latin slug (Cyrillic, Greek and CJK transliterated); a name with nothing
    readable in Latin letters (Hebrew, Arabic…) gets a stable hash instead."""
    slug = slugify(_ABJADS.sub(" ", customer), max_length=MAX_SLUG, word_boundary=False)
    slug = slug.strip("-")
    if not slug:
        digest = hashlib.sha1(customer.strip().encode("utf-8")).hexdigest()[:8]
        slug = f"customer-{digest}"
    return slug


def channel_name(customer: str, declared_at: datetime) -> str:
    """``crisis-<yyyymmdd>-<customer-slug>``."""
    return f"crisis-{declared_at:%Y%m%d}-{customer_slug(customer)}"


def with_suffix(name: str, attempt: int) -> str:
    """The name to try on attempt ``attempt`` (1 is the bare name, then ``-2``, ``-3``…)."""
    if attempt <= 1:
        return name
    suffix = f"-{attempt}"
    return name[: MAX_NAME - len(suffix)] + suffix
