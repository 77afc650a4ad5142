"""samestory: find the news articles that tell the same story, and show how they relate."""

from samestory.clean import Cleaned, CleaningAction, Dateline, clean, repeated_lines
from samestory.compare import Comparer, compare
from samestory.config import CleanConfig, MinHashConfig
from samestory.document import Comparison, Document, Origin, Passage, Scores, Span
from samestory.errors import (
    InputError,
    MissingDependency,
    SamestoryError,
    SettingsError,
    StoreError,
)
from samestory.ingest import Fields, Skipped
from samestory.pipeline import DedupResult, dedup
from samestory.store import Index

__version__ = "0.1.0"

__all__ = [
    "CleanConfig",
    "Cleaned",
    "CleaningAction",
    "Comparer",
    "Comparison",
    "Dateline",
    "DedupResult",
    "Document",
    "Fields",
    "Index",
    "InputError",
    "MinHashConfig",
    "MissingDependency",
    "Origin",
    "Passage",
    "SamestoryError",
    "Scores",
    "SettingsError",
    "Skipped",
    "Span",
    "StoreError",
    "__version__",
    "clean",
    "compare",
    "dedup",
    "repeated_lines",
]
