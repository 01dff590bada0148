"""Mapping tables: the signed-off specification that is also the running configuration."""
