"""#1 Ack latency: signed ``/crisis new`` and ``/crisis update`` at a fixed rate, against the
bot and a bare Bolt app that only acks, both on the production server (crisisbot.http), and
against a second bot that 300 slow clients hold connections to, trickling their headers;
interleaved in short slices so noise hits all alike."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import Child, Result, command_body, fmt_s, percentile, post_signed
from sandbox import Call, Emulator, start_emulator

SLICE = 2.0  # seconds per alternation between the apps
USER = "U0ANA"
SLOW_CLIENTS = 300
SLOW = f"bot, {SLOW_CLIENTS} slow clients"


class Trickle:
    """``count`` connections that send a request's headers a byte a second and never finish
    them; one the server cuts off (its read timeout) is opened again, as an attacker would."""

    HEAD = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slow: "

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.socks = [self._open() for _ in range(count)]
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(self.HEAD)
        return sock

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for n, sock in enumerate(self.socks):
                try:
                    sock.send(b"a")
                except OSError:
                    sock.close()
                    self.socks[n] = self._open()
                    self.reopened += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.socks:
            sock.close()


def run(*, quick: bool) -> Result:
    rate, duration = (50, 10.0) if quick else (50, 60.0)
    result = Result(
        "1 ack latency",
        f"{rate} req/s per app for {duration:.0f} s each, interleaved {SLICE:.0f} s slices; "
        "Web API latency 100 ms; bot, bare app and slow-client bot in child processes, each"
        " on the production server (waitress, crisisbot.http); the slow-client bot has"
        f" {SLOW_CLIENTS} connections trickling a header byte a second throughout",
    )
    emulator = start_emulator()
    emulator.set_latency(0.1)
    workdir = Path(tempfile.mkdtemp(prefix="crisisbot-bench-ack-"))
    # Both apps get the bot's default listener pool (bench.botproc), so only the listeners differ.
    common = ["--api-url", emulator.api_url]
    bot = Child(["serve", "--database-url", f"sqlite:///{workdir}/bot.db", "--scheduler", *common])
    slow = Child(
        ["serve", "--database-url", f"sqlite:///{workdir}/slow.db", "--scheduler", *common]
    )
    bare = Child(["bare", *common])
    trickle: Trickle | None = None
    try:
        bot_port = int(bot.read_json()["port"])
        slow_port = int(slow.read_json()["port"])
        bare_port = int(bare.read_json()["port"])
        bot_channels = _crisis_channels(emulator, bot_port, count=4)
        slow_channels = _crisis_channels(emulator, slow_port, count=4)
        # Bolt authorizes (auth.test) on its first requests; keep that out of the figures.
        for _ in range(3):
            post_signed(bare_port, command_body(emulator, "help", user=USER, channel="C0GENERAL"))
        trickle = Trickle(slow_port, SLOW_CLIENTS)
        ports = {"bot": bot_port, "bare": bare_port, SLOW: slow_port}
        channels = {"bot": bot_channels, "bare": bot_channels, SLOW: slow_channels}
        samples = _drive(emulator, ports, channels, rate, duration)
        reopened = trickle.reopened
    finally:
        if trickle is not None:
            trickle.close()
        bot.stop()
        slow.stop()
        bare.stop()
        emulator.stop()
    _report(result, samples, rate, duration, reopened)
    return result


def _crisis_channels(emulator: Emulator, port: int, *, count: int) -> list[str]:
    """Declare a few crises and wait until each is pinned, for ``/crisis update`` to target."""
    before = len(_created(emulator))
    pins = len(emulator.calls_to("pins.add"))
    for n in range(count):
        body = command_body(
            emulator, f"new Warmup {port} {n}: slow sev2", user=USER, channel="C0GENERAL"
        )
        post_signed(port, body)
    emulator.wait_for(
        lambda: (
            len(_created(emulator)) >= before + count
            and len(emulator.calls_to("pins.add")) >= pins + count
        ),
        timeout=60,
    )
    return [str(call.response["channel"]["id"]) for call in _created(emulator)[before:]]


def _created(emulator: Emulator) -> list[Call]:
    return [c for c in emulator.calls_to("conversations.create") if c.ok]


def _drive(
    emulator: Emulator,
    ports: dict[str, int],
    channels: dict[str, list[str]],
    rate: int,
    duration: float,
) -> dict[str, list[tuple[int, float, float]]]:
    """Open-loop load: each request goes at its scheduled moment whatever the last one did."""
    samples: dict[str, list[tuple[int, float, float]]] = {name: [] for name in ports}
    lock = threading.Lock()
    names = list(ports)
    total = int(rate * duration * len(names))
    # Enough threads that 3 s of stalled acks never hold back the schedule.
    pool = ThreadPoolExecutor(max_workers=rate * 4, thread_name_prefix="load")
    start = time.monotonic() + 0.5

    def fire(name: str, body: str, lag: float) -> None:
        status, seconds = post_signed(ports[name], body, timeout=10)
        with lock:
            samples[name].append((status, seconds, lag))

    for i in range(total):
        at = i / rate
        name = names[int(at // SLICE) % len(names)]
        if i % 2 == 0:
            text = f"new Load {i}: dashboards empty sev2"
            channel = "C0GENERAL"
        else:
            text = f"update still investigating, next in 30m ({i})"
            channel = channels[name][i % len(channels[name])]
        body = command_body(emulator, text, user=USER, channel=channel)
        pause = start + at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        pool.submit(fire, name, body, max(0.0, -pause))
    pool.shutdown(wait=True)
    return samples


def _report(
    result: Result,
    samples: dict[str, list[tuple[int, float, float]]],
    rate: int,
    duration: float,
    reopened: int,
) -> None:
    stats = {}
    for name, rows in samples.items():
        ok = [seconds for status, seconds, _ in rows if status == 200]
        stats[name] = (
            percentile(ok, 50),
            percentile(ok, 99),
            max((seconds for _, seconds, _ in rows), default=float("nan")),
            sum(1 for status, _, _ in rows if status != 200),
            len(rows),
            max((lag for _, _, lag in rows), default=0.0),
        )
    for name in ("bare", "bot", SLOW):
        p50, p99, worst, _, count, lag = stats[name]
        result.add(f"{name}: requests sent", f"{count} (max send lag {fmt_s(lag)})")
        result.add(f"{name}: ack p50 / p99 / max", f"{fmt_s(p50)} / {fmt_s(p99)} / {fmt_s(worst)}")
    b50, b99, bworst, bbad, _, _ = stats["bot"]
    a50, a99, _, _, _, _ = stats["bare"]
    ratio99 = b99 / a99 if a99 else float("nan")
    result.add("bot/bare ratio p50", f"{b50 / a50:.2f}" if a50 else "n/a")
    result.add("bot/bare ratio p99", f"{ratio99:.2f}", "≤ 1.5", ratio99 <= 1.5)
    result.add("slowest bot ack", fmt_s(bworst), "≤ 3 s", bworst <= 3.0)
    non_200 = [status for status, _, _ in samples["bot"] if status != 200]
    result.add(
        "bot non-200 answers (404, timeouts)",
        f"{bbad}" + (f" (statuses {sorted(set(non_200))})" if non_200 else ""),
        "0",
        bbad == 0,
    )
    s50, s99, sworst, sbad, _, _ = stats[SLOW]
    slow99 = s99 / b99 if b99 else float("nan")
    result.add("slow-client bot/bot ratio p50", f"{s50 / b50:.2f}" if b50 else "n/a")
    result.add("slow-client bot/bot ratio p99", f"{slow99:.2f}", "≤ 1.5", slow99 <= 1.5)
    result.add(
        "slowest ack with slow clients; non-200 answers",
        f"{fmt_s(sworst)}; {sbad}",
        "≤ 3 s; 0",
        sworst <= 3.0 and sbad == 0,
    )
    result.add("slow clients cut off by the read timeout (and reopened)", str(reopened))
