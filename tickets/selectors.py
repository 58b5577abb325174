"""Read queries of the tickets app, used by pages and the API."""
