"""Tests of mapping tables."""
