"""Every state change of the tickets app: one function per use case (see STYLE.md R2)."""
