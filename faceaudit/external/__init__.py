"""Stage: audit what was made elsewhere. Imported prediction files, model files, adapters for other tools' outputs."""
