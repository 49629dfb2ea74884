"""The digest's chart: a PNG of the expected size, with something drawn on it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from PIL import Image

from bot.insights.chart import DPI, HEIGHT_INCHES, WIDTH_INCHES, weekly_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Week:
    week_start: date
    kept_on_time_pct: float | None
    ack_median: timedelta | None
    kept_on_time: int = 0
    promises: int = 0


def twelve_weeks() -> list[Week]:
    start = date(2026, 9, 7)
    return [
        Week(
            start + timedelta(weeks=i),
            None if i == 3 else 50.0 + 4 * i,
            None if i == 5 else timedelta(minutes=5 + i),
            promises=0 if i == 3 else 10,
        )
        for i in range(12)
    ]


def pixels(png: bytes) -> np.ndarray:
    """The decoded PNG as a height × width × RGB array."""
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=int)


def coloured(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 30) -> int:
    """How many pixels are within ``tolerance`` of ``colour`` on every channel."""
    return int((np.abs(image - np.array(colour)) <= tolerance).all(axis=2).sum())


def not_background(image: np.ndarray) -> int:
    return int((image != 255).any(axis=2).sum())


def test_the_chart_is_a_png_of_the_expected_size_with_bars_and_a_line() -> None:
    image = pixels(weekly_chart(twelve_weeks()))
    assert image.shape == (int(HEIGHT_INCHES * DPI), int(WIDTH_INCHES * DPI), 3)
    total = image.shape[0] * image.shape[1]
    assert not_background(image) > total * 0.05, "the chart is (almost) blank"
    # The kept-on-time bars (teal) and the acknowledgement line (orange) are both drawn.
    assert coloured(image, (0x2B, 0x7A, 0x78)) > total * 0.02
    assert coloured(image, (0xC2, 0x57, 0x1A)) > 500


def test_an_empty_quarter_still_draws_a_chart() -> None:
    weeks = [Week(date(2026, 9, 7) + timedelta(weeks=i), None, None) for i in range(12)]
    image = pixels(weekly_chart(weeks))
    assert image.shape == (600, 1000, 3)
    # Axes and labels, but no bars and no line.
    assert coloured(image, (0x2B, 0x7A, 0x78)) == 0
    assert coloured(image, (0xC2, 0x57, 0x1A)) == 0
    assert not_background(image) > 1000
