"""Base pieces shared by every app: environment parsing, actor middleware; no domain rules."""
