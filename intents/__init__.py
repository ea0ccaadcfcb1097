"""Understanding residents' Chinese: ranked intents with confidence and evidence.

Pure: no Telegram, no database. `classify(text)` uses the shipped taxonomy; `Engine` holds any model.
"""

from intents.emergency import Emergency
from intents.engine import Engine, Match, Result, classify, get_engine
from intents.model import IntentInfo, Model
from intents.taxonomy import TaxonomyError, load_taxonomy

__all__ = [
    "Emergency", "Engine", "IntentInfo", "Match", "Model", "Result", "TaxonomyError", "classify", "get_engine",
    "load_taxonomy",
]
