"""DownloadCertificateBundle: the device's `.zip` (format in docs/deeplens-bundle.md), once.

The private key leaves the server only in this zip: the download erases it in the same transaction, so a
second download is refused with the reason, and registering again (after deregistering) is the way to a new
certificate — as DeepLens: "Certificates aren't reusable".
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.deeplens import errors, names
from edgeward.storage.repos import deeplens as repo
from edgeward.storage.repos import iot_certificates
from edgeward.storage.repos.authorities import KINDS, sealed_authorities
from edgeward.storage.repos.deeplens import DeepLensDevice, key_context

FORMAT = "edgeward-deeplens-bundle/1"
CERTIFICATE_FILE = "certs/device.pem.crt"
PRIVATE_KEY_FILE = "certs/device.pem.key"
ROOT_CA_FILE = "certs/root.ca.pem"
CONFIG_FILE = "config/config.json"
# Where the API is, when the installation names it; otherwise plain HTTP on the data endpoint's host:port.
API_ENDPOINT_KEY = "edgeward:Api"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def download_certificate_bundle(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = names.device_name(params)
    ctx.authorize("deeplens:DownloadCertificateBundle", names.device_arn(ctx, name))
    device = repo.get_device(ctx.conn, ctx.account, ctx.region, name, lock=True)
    if device is None:
        raise errors.no_device(name)
    if not ctx.endpoints.get("iot:CredentialProvider"):
        raise errors.validation(
            "This installation runs no credentials provider (edgeward serve --mtls-port 0), so a device could not "
            "use its bundle; the bundle stays available until one runs."
        )
    if device.private_key_ciphertext is None or not repo.take_private_key(ctx.conn, device, clock.now()):
        raise _downloaded(device)
    context = key_context(device.account, device.region, device.name, device.certificate_id)
    private_key = ctx.secrets.decrypt(device.private_key_ciphertext, context).decode()
    return {"FileName": f"{name}-certificates.zip", "Bundle": build_zip(ctx, device, private_key)}


def _downloaded(device: DeepLensDevice) -> Exception:
    when = f" at {device.bundle_downloaded_at.isoformat()}" if device.bundle_downloaded_at else ""
    return errors.conflict(
        f"The certificate bundle of device {device.name} was downloaded already{when}, and its private key was "
        "erased from the server then: it can be downloaded only once. Deregister the device and register it again "
        "to get a new certificate."
    )


def build_zip(ctx: Context, device: DeepLensDevice, private_key: str) -> bytes:
    cert = iot_certificates.get_account_certificate(ctx.conn, ctx.account, device.certificate_id)
    if cert is None:
        raise errors.not_found(f"The certificate {device.certificate_id} of device {device.name} no longer exists.")
    sealed = sealed_authorities(ctx.conn)
    files = {
        CERTIFICATE_FILE: (cert.certificate_pem, 0o644),
        PRIVATE_KEY_FILE: (private_key, 0o600),
        ROOT_CA_FILE: ("".join(sealed[kind].certificate_pem for kind in KINDS if kind in sealed), 0o644),
        CONFIG_FILE: (json.dumps(bundle_config(ctx, device), indent=2) + "\n", 0o644),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, (text, mode) in files.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def bundle_config(ctx: Context, device: DeepLensDevice) -> dict[str, Any]:
    data_endpoint = ctx.endpoints.get("iot:Data-ATS", "")
    return {
        "format": FORMAT,
        "deviceName": device.name,
        "thingName": device.thing_name,
        "thingArn": ctx.arn("iot", f"thing/{device.thing_name}"),
        "certificateId": device.certificate_id,
        "certificateArn": device.certificate_arn,
        "accountId": device.account,
        "region": device.region,
        "apiEndpoint": ctx.endpoints.get(API_ENDPOINT_KEY) or (f"http://{data_endpoint}" if data_endpoint else ""),
        "credentialsEndpoint": ctx.endpoints.get("iot:CredentialProvider", ""),
        "dataEndpoint": data_endpoint,
        "roleAlias": device.role_alias,
        "roleAliasArn": device.role_alias_arn,
        "deviceFleetName": device.fleet_name,
        "sageMakerDeviceName": device.sagemaker_device_name,
        "files": {"certificate": CERTIFICATE_FILE, "privateKey": PRIVATE_KEY_FILE, "rootCa": ROOT_CA_FILE},
    }
