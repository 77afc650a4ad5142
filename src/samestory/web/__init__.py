"""The web UI and JSON API over an index (``samestory serve``; the ``web`` extra)."""
