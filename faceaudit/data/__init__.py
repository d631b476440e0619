"""Stage 1: data. Synthetic faces, downloads and their checksums, layout adapters, the manifest (with rejects),
image decoding, the on-disk split format, and the data summary for the report."""
