"""Tests of the rest connector against a JSON API served over loopback."""
