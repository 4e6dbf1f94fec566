"""SageMaker's error vocabulary (json 1.1 codes without the `Exception` suffix for modeled errors).

Not-found answers are ValidationException with the texts AWS really sends (spec 2.3): Terraform and other
clients recognise a missing fleet or device by these message prefixes, so they must not change.
"""

from __future__ import annotations

from edgeward.core.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def resource_in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUse", message, 400)


def resource_limit_exceeded(message: str) -> ServiceError:
    return ServiceError("ResourceLimitExceeded", message, 400)


def no_devicefleet(fleet: str) -> ServiceError:
    """DescribeDeviceFleet, UpdateDeviceFleet, GetDeviceFleetReport on a missing fleet."""
    return validation(f"No devicefleet with name {fleet} found.")


def no_device_fleet(fleet: str) -> ServiceError:
    """Device operations (DescribeDevice, RegisterDevices, DeregisterDevices, ...) naming a missing fleet."""
    return validation(f"No device fleet with name {fleet} found.")


def delete_missing_fleet(fleet: str) -> ServiceError:
    """DeleteDeviceFleet on a missing fleet."""
    return validation(f"DeviceFleet with name {fleet} does not exist.")


def no_device(device: str, fleet: str) -> ServiceError:
    """DescribeDevice (and the data plane) for a device that is not registered in the fleet."""
    return validation(f"No device with name {device} found in device fleet {fleet}.")


def device_not_in_fleet(device: str, fleet: str) -> ServiceError:
    """UpdateDevices/DeregisterDevices naming a device that is not registered in the fleet."""
    return validation(f"Device with name {device} is not registered in device fleet {fleet}.")


def list_length(value: object, member: str, limit: int) -> ServiceError:
    """AWS's wording for a list outside its length bounds."""
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {limit}"
    )


def empty_list(member: str) -> ServiceError:
    return validation(
        f"1 validation error detected: Value '[]' at '{member}' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
