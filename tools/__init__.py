"""Developer tools of the TAP stack: the security scan (``tools.scan``)."""
