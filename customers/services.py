"""Every state change of the customers app: one function per use case (see STYLE.md R2)."""
