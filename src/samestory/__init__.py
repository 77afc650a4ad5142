"""samestory: find the news articles that tell the same story, and show how they relate."""

from samestory.clean import Cleaned, CleaningAction, Dateline, clean, repeated_lines
from samestory.config import CleanConfig, MinHashConfig
from samestory.document import Document
from samestory.errors import (
    InputError,
    MissingDependency,
    SamestoryError,
    SettingsError,
    StoreError,
)
from samestory.ingest import Fields, Skipped
from samestory.pipeline import DedupResult, dedup

__version__ = "0.1.0"

__all__ = [
    "CleanConfig",
    "Cleaned",
    "CleaningAction",
    "Dateline",
    "DedupResult",
    "Document",
    "Fields",
    "InputError",
    "MinHashConfig",
    "MissingDependency",
    "SamestoryError",
    "SettingsError",
    "Skipped",
    "StoreError",
    "__version__",
    "clean",
    "dedup",
    "repeated_lines",
]
