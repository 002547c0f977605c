"""Core: config, extensions, dates, rendering, audit, errors, role checks; imports no domain."""
