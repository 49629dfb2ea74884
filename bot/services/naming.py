"""Channel names within Slack's rules: lowercase letters, digits, ``-`` and ``_``, ≤ 80 chars."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime

MAX_NAME = 80
# Room for "crisis-yyyymmdd-" (16) and a "-NNN" suffix when the name is taken.
MAX_SLUG = MAX_NAME - 16 - 4


def customer_slug(customer: str) -> str:
    """A slug of Latin letters and digits; names with none (Hebrew, Japanese…) get a stable hash."""
    ascii_text = unicodedata.normalize("NFKD", customer).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_SLUG].rstrip("-")
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
