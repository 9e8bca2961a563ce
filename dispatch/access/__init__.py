"""Who may do what: accounts, sign-in, sessions, login throttling, territory scope."""
