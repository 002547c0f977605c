"""Test suite: one file per area."""
