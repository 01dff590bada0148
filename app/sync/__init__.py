"""The domain: services shared by the JSON API, the UI, the CLI and the scheduler."""
