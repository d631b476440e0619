"""Stage: audit what was made elsewhere. Imported prediction files, label maps, adapters for other tools' outputs."""
