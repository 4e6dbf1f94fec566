"""IoT: certificates operations, gathered from the modules that implement them.

- `certificates_create`: CreateKeysAndCertificate, CreateCertificateFromCsr (edgeward's own CA)
- `certificates_register`: RegisterCertificate, RegisterCertificateWithoutCA
- `certificates_manage`: DescribeCertificate, ListCertificates, ListCertificatesByCA, UpdateCertificate,
  DeleteCertificate
- `ca_certificates_ops`: GetRegistrationCode and the CA-certificate operations
"""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.iot import ca_certificates_ops, certificates_create, certificates_manage, certificates_register

OPERATIONS: dict[str, Handler] = {
    **certificates_create.OPERATIONS,
    **certificates_register.OPERATIONS,
    **certificates_manage.OPERATIONS,
    **ca_certificates_ops.OPERATIONS,
}
PREPARERS = certificates_create.PREPARERS
