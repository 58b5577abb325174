"""Every state change of the escalation app: one function per use case (see STYLE.md R2)."""
