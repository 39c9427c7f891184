"""The HTTP server: app factory, dependencies, error handling, logging."""
