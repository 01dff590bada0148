"""Runs on their own: schedule arithmetic, leases in the database, the executor, the ticker."""
