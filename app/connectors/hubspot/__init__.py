"""HubSpot: the async API client, webhook signatures, and the sandbox portal (``sandbox/``)."""
