"""The report's Jinja2 environment: its templates, the filters that format numbers and intervals, writing a page.

Templates do all the markup and, with autoescape on, all the escaping; Python hands them plain dicts and lists.
"""

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined


def number(value, digits: int = 4) -> str:
    """A metric with a fixed number of decimals, or n/a where it is undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval_text(interval) -> str:
    """A confidence interval as [low, high], or nothing where there is none."""
    return "" if not interval else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def exact(value) -> str:
    """The value as Python writes it in full (a data attribute that tests and readers compare with the JSON files)."""
    return repr(value)


FILTERS = {"number": number, "interval": interval_text, "exact": exact}


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
