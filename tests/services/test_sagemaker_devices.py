"""SageMaker Edge Manager devices through boto3 and the AWS CLI: seed 001's registration, all-or-nothing
batches, the per-call limit, not-found texts, updates, deregistration and listing.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

OUTPUT = {"S3OutputLocation": "s3://sagemaker-edge-demo-bucket/device_output"}


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def new_fleet(server: RunningServer) -> str:
    name = unique("fleet")
    server.client("sagemaker").create_device_fleet(DeviceFleetName=name, OutputConfig=OUTPUT)
    return name


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def fails(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return error_of(caught)


def test_seed_registers_a_device_with_its_thing_and_describes_it(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    device = "sagemaker-edge-demo-device" + str(int(time.time()))
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": device, "IotThingName": "sample-device"}])
    got = sm.describe_device(DeviceName=device, DeviceFleetName=fleet)
    account = got["DeviceArn"].split(":")[4]
    assert got["DeviceArn"] == f"arn:aws:sagemaker:us-east-1:{account}:device-fleet/{fleet}/device/{device}"
    assert got["IotThingName"] == "sample-device" and got["DeviceFleetName"] == fleet and got["Models"] == []
    assert "LatestHeartbeat" not in got and "AgentVersion" not in got and got["RegistrationTime"]


def test_not_found_texts(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    other = new_fleet(server)
    sm.register_devices(DeviceFleetName=other, Devices=[{"DeviceName": "elsewhere-" + fleet}])
    cases = [
        (lambda: sm.describe_device(DeviceName="ghost", DeviceFleetName="ghost-fleet"), "No device fleet with name"),
        (lambda: sm.describe_device(DeviceName="ghost", DeviceFleetName=fleet), "No device with name ghost"),
        # A device of another fleet is not found in this one.
        (lambda: sm.describe_device(DeviceName="elsewhere-" + fleet, DeviceFleetName=fleet), "No device with name"),
        (lambda: sm.deregister_devices(DeviceFleetName=fleet, DeviceNames=["ghost"]), "Device with name ghost"),
        (lambda: sm.deregister_devices(DeviceFleetName="ghost-fleet", DeviceNames=["x"]), "No device fleet with name"),
        (
            lambda: sm.register_devices(DeviceFleetName="ghost-fleet", Devices=[{"DeviceName": "x"}]),
            "No device fleet with name",
        ),
        (lambda: sm.update_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": "ghost"}]), "Device with name ghost"),
    ]
    for call, prefix in cases:
        code, message = fails(call)
        assert code == "ValidationException" and message.startswith(prefix), message


def test_a_batch_registers_entirely_or_not_at_all(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    taken = unique("taken")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": taken}])
    fresh = [unique("fresh") for _ in range(5)]
    batch = [{"DeviceName": name} for name in fresh] + [{"DeviceName": taken}]
    code, message = fails(lambda: sm.register_devices(DeviceFleetName=fleet, Devices=batch))
    assert code == "ValidationException" and taken in message and "already registered" in message
    # ... and in another fleet the name is taken just the same.
    other = new_fleet(server)
    code, message = fails(lambda: sm.register_devices(DeviceFleetName=other, Devices=[{"DeviceName": taken}]))
    assert code == "ValidationException" and fleet in message
    for name in fresh:
        assert fails(lambda n=name: sm.describe_device(DeviceName=n, DeviceFleetName=fleet))[0] == "ValidationException"
    report = sm.get_device_fleet_report(DeviceFleetName=fleet)
    assert report["DeviceStats"]["RegisteredDeviceCount"] == 1


def test_duplicates_within_a_request_and_bad_names_are_refused(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    same = unique("twice")
    code, message = fails(
        lambda: sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": same}, {"DeviceName": same}])
    )
    assert code == "ValidationException" and same in message
    bad = [
        {"DeviceName": "under_score"},
        {"DeviceName": "x" * 64},
        {"DeviceName": "ok-name", "Description": "x" * 41},
        {"DeviceName": "ok-name", "Description": "no <html>"},
        {"DeviceName": "ok-name", "IotThingName": "spaces are not allowed"},
    ]
    for device in bad:
        code, message = fails(lambda d=device: sm.register_devices(DeviceFleetName=fleet, Devices=[d]))
        assert code == "ValidationException" and "failed to satisfy constraint" in message, message
    assert sm.get_device_fleet_report(DeviceFleetName=fleet)["DeviceStats"]["RegisteredDeviceCount"] == 0


def test_per_call_limit_is_one_hundred(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    tag = secrets.token_hex(3)
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": f"b{tag}-{i}"} for i in range(100)])
    code, message = fails(
        lambda: sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": f"c{tag}-{i}"} for i in range(101)])
    )
    assert code == "ValidationException" and "less than or equal to 100" in message
    code, _ = fails(lambda: sm.register_devices(DeviceFleetName=fleet, Devices=[]))
    assert code == "ValidationException"
    assert sm.get_device_fleet_report(DeviceFleetName=fleet)["DeviceStats"]["RegisteredDeviceCount"] == 100


def test_the_thing_need_not_exist_yet(server: RunningServer) -> None:
    sm, iot, fleet = server.client("sagemaker"), server.client("iot"), new_fleet(server)
    thing = unique("not-created-yet")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName=thing)
    device = unique("dev")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": device, "IotThingName": thing}])
    assert sm.describe_device(DeviceName=device, DeviceFleetName=fleet)["IotThingName"] == thing


def test_update_and_deregister(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), new_fleet(server)
    a, b = unique("a"), unique("b")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": a, "Description": "first"}, {"DeviceName": b}])
    sm.update_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": a, "IotThingName": "thing-a"}])
    got = sm.describe_device(DeviceName=a, DeviceFleetName=fleet)
    assert got["Description"] == "first" and got["IotThingName"] == "thing-a"
    # All or nothing: one unknown name and neither is deregistered.
    assert fails(lambda: sm.deregister_devices(DeviceFleetName=fleet, DeviceNames=[a, "ghost"]))[0] == (
        "ValidationException"
    )
    sm.describe_device(DeviceName=a, DeviceFleetName=fleet)
    sm.deregister_devices(DeviceFleetName=fleet, DeviceNames=[a, b])
    assert fails(lambda: sm.describe_device(DeviceName=a, DeviceFleetName=fleet))[1].startswith("No device with name")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": a}])  # registered again
    assert "IotThingName" not in sm.describe_device(DeviceName=a, DeviceFleetName=fleet)


def test_list_devices_filters_and_paginates(server: RunningServer) -> None:
    sm, edge = server.client("sagemaker"), server.client("sagemaker-edge")
    fleet, other = new_fleet(server), new_fleet(server)
    names = sorted(unique(f"ls{i}") for i in range(7))
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": name} for name in names])
    sm.register_devices(DeviceFleetName=other, Devices=[{"DeviceName": unique("other")}])
    pages = sm.get_paginator("list_devices").paginate(DeviceFleetName=fleet, PaginationConfig={"PageSize": 3})
    listed = [[s["DeviceName"] for s in page["DeviceSummaries"]] for page in pages]
    assert listed == [names[0:3], names[3:6], names[6:7]]
    first = sm.list_devices(DeviceFleetName=fleet, MaxResults=1)["DeviceSummaries"][0]
    assert first["DeviceFleetName"] == fleet and first["DeviceArn"].endswith(f"device-fleet/{fleet}/device/{names[0]}")
    before = sm.describe_device(DeviceName=names[2], DeviceFleetName=fleet)["RegistrationTime"]
    edge.send_heartbeat(
        AgentVersion="1.2",
        DeviceName=names[2],
        DeviceFleetName=fleet,
        Models=[{"ModelName": "resnet-edge", "ModelVersion": "3"}],
    )
    by_model = sm.list_devices(ModelName="resnet")["DeviceSummaries"]
    assert [s["DeviceName"] for s in by_model] == [names[2]]
    assert by_model[0]["Models"] == [{"ModelName": "resnet-edge", "ModelVersion": "3"}]
    assert by_model[0]["AgentVersion"] == "1.2"
    recent = sm.list_devices(DeviceFleetName=fleet, LatestHeartbeatAfter=before)["DeviceSummaries"]
    assert [s["DeviceName"] for s in recent] == [names[2]]
    assert sm.list_devices(DeviceFleetName="no-such-fleet-name")["DeviceSummaries"] == []


def test_without_permission_describe_device_is_denied_in_aws_words(server: RunningServer) -> None:
    iam = server.client("iam")
    name = unique("mateojackson")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    client = server.client("sagemaker", key["AccessKeyId"], key["SecretAccessKey"])
    code, message = fails(lambda: client.describe_device(DeviceName="d", DeviceFleetName="f"))
    assert code == "AccessDeniedException"
    assert f":user/{name} is not authorized to perform: sagemaker:DescribeDevice on resource: " in message
    assert ":device-fleet/f/device/d" in message


def test_aws_cli_registers_and_lists(server: RunningServer) -> None:
    fleet, device = new_fleet(server), unique("cli")
    devices = json.dumps([{"DeviceName": device, "Description": "from the cli"}])
    base = ["aws", "sagemaker"]
    subprocess.run(
        [*base, "register-devices", "--device-fleet-name", fleet, "--devices", devices],
        env=server.env(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    out = subprocess.run(
        [*base, "list-devices", "--device-fleet-name", fleet],
        env=server.env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    summaries = json.loads(out.stdout)["DeviceSummaries"]
    assert [(s["DeviceName"], s["Description"]) for s in summaries] == [(device, "from the cli")]


def test_concurrent_registrations_of_one_name_leave_exactly_one(server: RunningServer) -> None:
    fleets = [new_fleet(server) for _ in range(6)]
    name = unique("contested")

    def attempt(fleet: str) -> str:
        try:
            server.client("sagemaker").register_devices(
                DeviceFleetName=fleet, Devices=[{"DeviceName": name}, {"DeviceName": unique("side")}]
            )
            return fleet
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ValidationException", exc.response
            return ""

    with ThreadPoolExecutor(len(fleets)) as pool:
        winners = [fleet for fleet in pool.map(attempt, fleets) if fleet]
    assert len(winners) == 1
    sm = server.client("sagemaker")
    assert sm.describe_device(DeviceName=name, DeviceFleetName=winners[0])["DeviceFleetName"] == winners[0]
    counts = {f: sm.get_device_fleet_report(DeviceFleetName=f)["DeviceStats"]["RegisteredDeviceCount"] for f in fleets}
    assert counts == {f: (2 if f == winners[0] else 0) for f in fleets}  # losers registered nothing at all
