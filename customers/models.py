"""Data and invariants of the customers app."""
