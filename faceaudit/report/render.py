"""The report's Jinja2 environment: its templates, the filters that format numbers and intervals, writing pages
(many of them in worker processes where there are cores to spare).

Templates do all the markup and, with autoescape on, all the escaping; Python hands them plain dicts and lists.
"""

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape


def number(value, digits: int = 4) -> str:
    """A metric with a fixed number of decimals, or n/a where it is undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval_text(interval) -> str:
    """A confidence interval as [low, high], or nothing where there is none."""
    return "" if not interval else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def exact(value) -> str:
    """The value as Python writes it in full (a data attribute that tests and readers compare with the JSON files)."""
    return repr(value)


HTML_SPECIAL = "<>&\"'"


def data_uri(value: str) -> Markup:
    """A figure's data URI as autoescape would write it, without its character-by-character scan: base64 holds no
    character that HTML escapes, and a run page carries megabytes of it."""
    return escape(value) if any(character in value for character in HTML_SPECIAL) else Markup(value)


FILTERS = {"number": number, "interval": interval_text, "exact": exact, "data_uri": data_uri}


def environment() -> Environment:
    templates = Environment(
        loader=PackageLoader("faceaudit.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    templates.filters.update(FILTERS)
    return templates


TEMPLATES = environment()


def render(template: str, context: dict) -> str:
    return TEMPLATES.get_template(template).render(context)


def write_page(path: Path, template: str, context: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(render(template, context))


# Below this many pages per worker, starting worker processes costs more than it saves.
PAGES_PER_WORKER = 50


def usable_cores() -> int:
    """The CPUs this process may run on (a SLURM job's or taskset's share, not the whole node)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def write_all(write: Callable, pages: list[tuple], workers: int | None = None) -> None:
    """Call write(*arguments) for each page's arguments: in `workers` processes (None: one per usable core, at most
    one per PAGES_PER_WORKER pages), or here where that is one. `write` and its arguments must be picklable; a
    page that fails raises its error here."""
    if workers is None:
        workers = min(usable_cores(), len(pages) // PAGES_PER_WORKER)
    if workers <= 1:
        for arguments in pages:
            write(*arguments)
        return
    chunk = max(1, len(pages) // (workers * 8))  # few round trips, yet an even share at the end
    with ProcessPoolExecutor(workers) as pool:
        for _ in pool.map(write, *zip(*pages, strict=True), chunksize=chunk):
            pass
