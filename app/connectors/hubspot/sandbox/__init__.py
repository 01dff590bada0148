"""The sandbox portal: an emulated HubSpot account answering at api.hubapi.com's paths."""
