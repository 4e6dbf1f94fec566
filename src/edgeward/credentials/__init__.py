"""The IoT credentials provider: a device's certificate, presented over mutual TLS, exchanged for temporary
credentials of the role a role alias names (spec 1.2-1.7).

`request` reads what the device asked for, `exchange` runs AWS's checks in AWS's order and issues the STS
session, `variables` gives the IoT policy variables of the connection, `anchors` the certificates the mTLS
listener trusts. The listener itself (TLS, HTTP) lives in `edgeward.server.mtls_*`.
"""
