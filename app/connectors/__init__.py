"""Connectors to third-party systems and HubSpot; unaware of the web and the database."""
