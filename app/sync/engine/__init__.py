"""The decision core of a sync run: hashes, field merges, echoes, deletions and counts, no I/O."""
