"""Tests of the HubSpot client."""
