"""The one place where access to tickets objects is decided (see STYLE.md R7)."""
