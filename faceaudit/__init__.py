"""faceaudit: the library behind the faceaudit workflow (one module per concern)."""
