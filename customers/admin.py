"""Admin registrations of the customers app."""
