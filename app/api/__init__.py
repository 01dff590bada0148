"""The JSON API under /api/v1, health probes, and (later) webhook and OAuth callbacks."""
