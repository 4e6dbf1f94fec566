"""edgeward: a self-hosted AWS-compatible device identity service."""

__version__ = "0.1.0"
