"""HTTPS on the API port (`edgeward serve --tls`): a server certificate from the installation's CA.

A fresh key and certificate are made on every start (like the mTLS listener's) and written where uvicorn
can load them in each worker process: `<data-dir>/tls/api.pem` (leaf + issuing CA) and `api.key` (0600,
in a 0700 directory). Clients trust `<data-dir>/ca.pem`, which already holds the root and issuing CA:
`AWS_CA_BUNDLE=<data-dir>/ca.pem` for the AWS CLI and boto3, `curl --cacert`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from edgeward.server.ca import listener_hosts, server_certificate
from edgeward.server.config import Config
from edgeward.storage.repos.authorities import Authorities

TLS_DIRNAME = "tls"
CERT_FILENAME = "api.pem"
KEY_FILENAME = "api.key"


@dataclass(frozen=True)
class ApiCertificate:
    certfile: Path
    keyfile: Path


def api_certificate(config: Config, authorities: Authorities) -> ApiCertificate:
    """Issue the API port's certificate for every name clients may use, and write it for uvicorn."""
    folder = config.data_dir / TLS_DIRNAME
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # whatever the umask, or an older directory, left
    chain_pem, key_pem = server_certificate(authorities, listener_hosts(config))
    files = ApiCertificate(certfile=folder / CERT_FILENAME, keyfile=folder / KEY_FILENAME)
    _write_private(files.keyfile, key_pem, 0o600)
    _write_private(files.certfile, chain_pem, 0o644)
    return files


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` atomically; the file has its final mode before a byte is written into it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
