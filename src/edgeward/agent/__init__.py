"""edgeward-agent: the device side. Fetches temporary credentials over mutual TLS from edgeward's credentials
provider, keeps them fresh, and hands them to AWS SDKs on the device.

It installs without the server's dependencies (`packages/edgeward-agent`): only the standard library and
`cryptography` (for enrolment with a CSR), plus `edgeward.core`.
"""
