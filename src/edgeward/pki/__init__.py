"""edgeward's certificate authority as a pure library: keys, CA certificates, issuing, CSRs, chain checks.

Imports only `edgeward.core` and `cryptography`; no I/O beyond the bytes and times its callers pass in.
"""
