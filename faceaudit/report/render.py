"""The report's Jinja2 environment: its templates, the filters that format numbers and intervals, writing pages
(many of them in worker processes where there are cores to spare).

Templates do all the markup and, with autoescape on, all the escaping; Python hands them plain dicts and lists.
"""

import gc
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


def write_all(write: Callable, pages: list[tuple], workers: int = 1) -> None:
    """Call write(*arguments) for each page's arguments, here or, with `workers` above one, in that many processes
    (`write` and its arguments must then be picklable; a page that fails raises its error here). On a machine whose
    cores are busy with other jobs, one process is faster: the workers' start-up and the copying of each page's
    results cost more CPU time than they spread."""
    if workers <= 1:
        for arguments in pages:
            write(*arguments)
        return
    chunk = max(1, len(pages) // (workers * 8))  # few round trips, yet an even share at the end
    gc.freeze()  # forked workers then leave the parent's objects alone instead of copying them to collect garbage
    try:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(write, *zip(*pages, strict=True), chunksize=chunk):
                pass
    finally:
        gc.unfreeze()
