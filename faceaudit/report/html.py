"""Small HTML building blocks for the report: escaping, tables, embedded figures, the page frame."""

import base64
import html
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
td.best { background: #d8f0d8; font-weight: bold; } td.worst { background: #f8dcdc; }
img { max-width: 100%; margin: 0.5em 0; } pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
.note { background: #fff8e0; padding: 0.8em; border-left: 4px solid #e0b000; }
.card { border: 1px solid #bbb; padding: 0 1em; margin: 1em 0; }
"""


def escape(value) -> str:
    return html.escape(str(value))


def number(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def interval_text(interval) -> str:
    return "" if not interval else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def name_cell(value, link: str | None = None) -> str:
    text = escape(value) if link is None else f'<a href="{escape(link)}">{escape(value)}</a>'
    return f'<td class="name">{text}</td>'


def table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    return f"<table><tr>{head}</tr>\n" + "\n".join(f"<tr>{row}</tr>" for row in rows) + "</table>"


def key_value_table(values: dict) -> str:
    return table(["", ""], [name_cell(key) + name_cell(value) for key, value in values.items()])


def embed_png(path: Path, alt: str) -> str:
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")
