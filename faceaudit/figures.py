"""The one place that sets up matplotlib (file-only backend, text drawn literally) and saves a figure; every stage
that draws imports pyplot from here."""

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Class, group and dataset names reach titles, tick labels and legends. With mathtext on, a name holding two dollar
# signs ("$x$") would be drawn as a formula; off, every text is drawn as the characters it holds. No figure of this
# project writes mathtext on purpose.
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402


def save(figure, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def png_data_uri(figure, dpi: int = 80) -> str:
    """The figure as a PNG data URI, for a page that embeds its figures; the figure is closed."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
