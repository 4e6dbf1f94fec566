"""The agent installs on a device without the server's dependencies: build its wheel, install it into a fresh
virtual environment, and run it there."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

from cryptography import x509

ROOT = Path(__file__).resolve().parents[3]


def test_agent_wheel_installs_alone(tmp_path: Path) -> None:
    env_dir = tmp_path / "device"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            str(ROOT / "packages/edgeward-agent"),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("edgeward_agent-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=300)
    imports = "import importlib.util as u; print([m for m in ('sqlalchemy', 'botocore', 'uvicorn') if u.find_spec(m)])"
    assert (
        subprocess.run([str(python), "-c", imports], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
    agent = env_dir / "bin" / "edgeward-agent"
    key, csr = tmp_path / "device.key", tmp_path / "device.csr"
    subprocess.run(
        [str(agent), "enrol", "--key-out", str(key), "--csr-out", str(csr), "--common-name", "camera-1"],
        check=True,
        timeout=60,
    )
    request = x509.load_pem_x509_csr(csr.read_bytes())
    assert request.is_signature_valid
    assert key.stat().st_mode & 0o777 == 0o600
