"""Course content on disk: modules, units, glossary, written-task definitions (frozen)."""
