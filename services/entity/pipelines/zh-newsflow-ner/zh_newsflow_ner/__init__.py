"""newsflow's own NER pipeline, loaded by ``spacy.load("zh_newsflow_ner")``."""

from pathlib import Path
from typing import Any

from spacy.util import get_model_meta, load_model_from_init_py

from . import char_roles  # noqa: F401  (registers the tokenizer)

__version__ = get_model_meta(Path(__file__).parent)["version"]


def load(**overrides: Any) -> Any:
    return load_model_from_init_py(__file__, **overrides)
