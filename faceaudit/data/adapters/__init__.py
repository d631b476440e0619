"""Dataset adapters: each layout reads its source into one table of `path` (relative to the dataset root) and labels.

An adapter may add a `split` column (the dataset's own split), a `reason` column (why a row it listed cannot be
used, e.g. a malformed file name; the manifest sends such rows to rejects) and `table.attrs["repairs"]` (values it
corrected, with counts, e.g. age bins a spreadsheet turned into dates).
"""

from pathlib import Path

import pandas as pd

from faceaudit.data.adapters import (
    celeba_attributes,
    class_folders,
    fairface_csv,
    split_lists,
    synthetic,
    utkface_names,
)

ADAPTERS = {
    "synthetic": synthetic.read_source,
    "fairface_csv": fairface_csv.read_source,
    "celeba_attributes": celeba_attributes.read_source,
    "class_folders": class_folders.read_source,
    "split_lists": split_lists.read_source,
    "utkface_names": utkface_names.read_source,
}


def read_source(layout: str, root: Path, settings: dict | None = None, labels: dict | None = None) -> pd.DataFrame:
    """The source table of the dataset at `root`; `settings` is the layout's config object, `labels` the dataset's."""
    if layout not in ADAPTERS:
        raise ValueError(f"unknown dataset layout '{layout}'; known layouts: {sorted(ADAPTERS)}")
    return ADAPTERS[layout](Path(root), settings or {}, labels or {})
