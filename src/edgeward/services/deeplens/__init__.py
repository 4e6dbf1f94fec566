"""DeepLens-style device registration: edgeward's own API (DeepLens never had a public one), used by the web
console's wizard and `edgeward deeplens`. Not routed on the AWS wire; run through `services.invoke`.

| operation | IAM action (resource `arn:aws:deeplens:<region>:<account>:device/<name>`) |
|---|---|
| RegisterDevice | `deeplens:RegisterDevice`, plus what it does for the caller (see `register`) |
| DownloadCertificateBundle | `deeplens:DownloadCertificateBundle` (a write: it erases the private key) |
| DeregisterDevice | `deeplens:DeregisterDevice`, plus the IoT/SageMaker removals (see `deregister`) |
| DescribeDevice | `deeplens:DescribeDevice` |
| ListDevices | `deeplens:ListDevices` on `*` |
"""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.deeplens.bundle import download_certificate_bundle
from edgeward.services.deeplens.deregister import deregister_device
from edgeward.services.deeplens.listing import describe_device, list_devices
from edgeward.services.deeplens.register import register_device

OPERATIONS: dict[str, Handler] = {
    "RegisterDevice": register_device,
    "DownloadCertificateBundle": download_certificate_bundle,
    "DeregisterDevice": deregister_device,
    "DescribeDevice": describe_device,
    "ListDevices": list_devices,
}
