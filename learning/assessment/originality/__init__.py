"""Originality: fingerprints (pure) and the index of stored texts."""
