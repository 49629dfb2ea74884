from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.db.session import SessionFactory
from sandbox import Emulator, start_emulator
from tests.conftest import Clock
from tests.harness import Bot


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator() as emulator:
        yield emulator


@pytest.fixture
def bot(
    settings: Settings, session_factory: SessionFactory, clock: Clock, emulator: Emulator
) -> Iterator[Bot]:
    bot = Bot(settings=settings, session_factory=session_factory, clock=clock, emulator=emulator)
    yield bot
    bot.close()
