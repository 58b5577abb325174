"""The one place where access to feature_requests objects is decided (see STYLE.md R7)."""
