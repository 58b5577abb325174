"""The one place where access to escalation objects is decided (see STYLE.md R7)."""
