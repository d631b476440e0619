"""A progress line with rate and ETA for long loops whose output goes to a log file, not a terminal."""

import time


class Progress:
    def __init__(self, what: str, total: int, every_seconds: float = 5.0):
        self.what, self.total, self.every_seconds = what, total, every_seconds
        self.done = 0
        self.started = self.last_report = time.perf_counter()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self.last_report >= self.every_seconds or self.done >= self.total:
            self.last_report = now
            print(self.line(now - self.started), flush=True)

    def line(self, elapsed: float) -> str:
        rate = self.done / elapsed if elapsed > 0 else 0.0
        remaining = (self.total - self.done) / rate if rate > 0 else 0.0
        share = self.done / self.total if self.total else 1.0
        return (
            f"{self.what}: {self.done}/{self.total} images ({share:.0%}), {rate:.0f} images/s, "
            f"elapsed {format_duration(elapsed)}, ETA {format_duration(remaining)}"
        )


def format_duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
