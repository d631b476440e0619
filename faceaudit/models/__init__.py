"""Stage 2: model builders (Keras). The config's model names (faceaudit.catalog) mapped to functions that build them."""

from faceaudit.models.builders import MODELS, build_model, class_scores

__all__ = ["MODELS", "build_model", "class_scores"]
