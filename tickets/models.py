"""Data and invariants of the tickets app."""
