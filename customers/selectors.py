"""Read queries of the customers app, used by pages and the API."""
