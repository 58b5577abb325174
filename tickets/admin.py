"""Admin registrations of the tickets app."""
