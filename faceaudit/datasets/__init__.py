"""Dataset adapters: each layout reads its source into one table of `path` (relative to the dataset root) and labels."""

from pathlib import Path

import pandas as pd

from faceaudit.datasets import synthetic

ADAPTERS = {"synthetic": synthetic.read_source}


def read_source(layout: str, root: Path) -> pd.DataFrame:
    if layout not in ADAPTERS:
        raise ValueError(f"unknown dataset layout '{layout}'; known layouts: {sorted(ADAPTERS)}")
    return ADAPTERS[layout](Path(root))
