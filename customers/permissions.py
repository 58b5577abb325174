"""The one place where access to customers objects is decided (see STYLE.md R7)."""
