"""The figures a service manager asks for."""
