"""A fleet's `OutputConfig`: where devices upload captured data (S3), checked beyond the model's pattern."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from edgeward.services.sagemaker import errors

# S3 bucket naming rules: 3..63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KEYS = ("S3OutputLocation", "KmsKeyId", "PresetDeploymentType", "PresetDeploymentConfig")


def checked(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as stored and described; ValidationException for an unusable location or preset."""
    location = str(config["S3OutputLocation"])
    scheme, _, rest = location.partition("://")
    host = rest.split("/", 1)[0]
    if scheme == "s3" and (not _BUCKET.fullmatch(host) or ".." in host):
        raise errors.validation(f"S3OutputLocation {location} does not name a valid S3 bucket.")
    if scheme == "https" and not host:
        raise errors.validation(f"S3OutputLocation {location} does not name a host.")
    preset = config.get("PresetDeploymentConfig")
    if preset is not None:
        if not config.get("PresetDeploymentType"):
            raise errors.validation("PresetDeploymentConfig requires PresetDeploymentType.")
        try:
            json.loads(preset)
        except ValueError:
            raise errors.validation("PresetDeploymentConfig must be a JSON document.") from None
    return {key: config[key] for key in _KEYS if config.get(key) is not None}
