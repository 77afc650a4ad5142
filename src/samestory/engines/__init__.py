"""Engines that run the dedup pipeline: ``local`` (processes, streaming)."""
