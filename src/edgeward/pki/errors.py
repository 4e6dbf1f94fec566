"""The one error of the PKI layer; its message is worded for an AWS error response."""

from __future__ import annotations


class PkiError(Exception):
    """A certificate, key or CSR that edgeward cannot accept; `str(exc)` says what is wrong."""
