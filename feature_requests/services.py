"""Every state change of the feature_requests app: one function per use case (see STYLE.md R2)."""
