"""The staff console: the service team's web pages under /staff (log-in, the case queue)."""
