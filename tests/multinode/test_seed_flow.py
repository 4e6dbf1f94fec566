"""Seed 001's flow (the steps of the acceptance script) against three nodes sharing one PostgreSQL, every request
going to the next node round-robin: what one node writes, the next one reads, signs with, or exchanges.
"""

from __future__ import annotations

import functools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from tests.multinode.cluster import Cluster, Node, within

DEEPLENS_ROLES = {
    "AWSDeepLensServiceRole": (
        "deeplens.amazonaws.com",
        "arn:aws:iam::aws:policy/service-role/AWSDeepLensServiceRolePolicy",
    ),
    "AWSDeepLensGreengrassRole": (
        "greengrass.amazonaws.com",
        "arn:aws:iam::aws:policy/service-role/AWSGreengrassResourceAccessRolePolicy",
    ),
    "AWSDeepLensGreengrassGroupRole": (
        "greengrass.amazonaws.com",
        "arn:aws:iam::aws:policy/AWSDeepLensLambdaFunctionAccessPolicy",
    ),
    "AWSDeepLensSageMakerRole": ("sagemaker.amazonaws.com", "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"),
    "AWSDeepLensLambdaRole": ("lambda.amazonaws.com", "arn:aws:iam::aws:policy/AWSLambdaFullAccess"),
}
BUCKET = "sagemaker-edge-demo-bucket"
FLEET = "demo-device-fleet"
DEVICE = "sagemaker-edge-demo-device"
THING = "sample-device"


def trust(*services: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow(actions: list[str], resource: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


class SeedFlow:
    """The seed's steps in order; `state` carries what later steps need, as the acceptance script does."""

    def __init__(self, cluster: Cluster, work: Path) -> None:
        self.cluster = cluster
        self.work = work
        self.state: dict[str, Any] = {}

    def c(self, service: str) -> Any:
        return self.cluster.client(service)

    def create_deeplens_roles(self) -> None:
        for name, (service, policy) in DEEPLENS_ROLES.items():
            self.c("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))
            self.c("iam").attach_role_policy(RoleName=name, PolicyArn=policy)
        listed = {role["RoleName"] for role in self.c("iam").list_roles()["Roles"]}
        assert set(DEEPLENS_ROLES) <= listed

    def create_edge_role(self) -> None:
        created = self.c("iam").create_role(
            RoleName="SageMakerEdgeRole",
            AssumeRolePolicyDocument=trust("credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"),
        )
        self.state["role_arn"] = created["Role"]["Arn"]
        self.c("iam").put_role_policy(
            RoleName="SageMakerEdgeRole",
            PolicyName="edge-s3",
            PolicyDocument=allow(["s3:PutObject", "s3:GetObject", "s3:ListBucket"], "*"),
        )

    def create_bucket(self) -> None:
        self.c("s3").create_bucket(Bucket=BUCKET)

    def create_thing_type_and_thing(self) -> None:
        self.c("iot").create_thing_type(thingTypeName="getting-started-demo")
        self.c("iot").create_thing(thingName=THING, thingTypeName="getting-started-demo")
        assert self.c("iot").describe_thing(thingName=THING)["thingTypeName"] == "getting-started-demo"

    def create_device_fleet(self) -> None:
        self.c("sagemaker").create_device_fleet(
            DeviceFleetName=FLEET,
            RoleArn=self.state["role_arn"],
            OutputConfig={"S3OutputLocation": f"s3://{BUCKET}/device_output"},
        )

    def register_devices(self) -> None:
        self.c("sagemaker").register_devices(
            DeviceFleetName=FLEET, Devices=[{"DeviceName": DEVICE, "IotThingName": THING}]
        )
        assert self.c("sagemaker").describe_device(DeviceName=DEVICE, DeviceFleetName=FLEET)["IotThingName"] == THING

    def create_keys_and_certificate(self) -> None:
        created = self.c("iot").create_keys_and_certificate(setAsActive=True)
        self.state["cert"] = created
        (self.work / "device.pem.crt").write_text(created["certificatePem"])
        (self.work / "private.pem.key").write_text(created["keyPair"]["PrivateKey"])
        certificate = x509.load_pem_x509_certificate(created["certificatePem"].encode())
        assert certificate.public_key().key_size == 2048  # type: ignore[union-attr]
        self.c("iot").attach_thing_principal(thingName=THING, principal=created["certificateArn"])

    def fleet_role_alias(self) -> None:
        full = self.c("sagemaker").describe_device_fleet(DeviceFleetName=FLEET)["IotRoleAlias"]
        self.state["alias"] = full[full.find("SageMaker") :]
        described = self.c("iot").describe_role_alias(roleAlias=self.state["alias"])["roleAliasDescription"]
        self.state["alias_arn"] = described["roleAliasArn"]
        assert described["roleArn"] == self.state["role_arn"]

    def create_and_attach_policy(self) -> None:
        document = {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "iot:AssumeRoleWithCertificate",
                "Resource": self.state["alias_arn"],
            },
        }
        self.c("iot").create_policy(policyName="aliaspolicy", policyDocument=json.dumps(document))
        self.c("iot").attach_policy(policyName="aliaspolicy", target=self.state["cert"]["certificateArn"])

    def curl_credentials(self, node: Node, thing: str | None = THING) -> subprocess.CompletedProcess[str]:
        """The seed's curl against the credentials endpoint `node`'s DescribeEndpoint names."""
        endpoint = node.client("iot").describe_endpoint(endpointType="iot:CredentialProvider")["endpointAddress"]
        assert endpoint == f"127.0.0.1:{node.mtls_port}"
        url = f"https://{endpoint}/role-aliases/{self.state['alias']}/credentials"
        args = ["curl", "-sS", "--fail-with-body", "--cacert", str(node.ca_file)]
        args += ["--cert", str(self.work / "device.pem.crt"), "--key", str(self.work / "private.pem.key")]
        if thing:
            args += ["-H", f"x-amzn-iot-thingname: {thing}"]
        return subprocess.run([*args, url], capture_output=True, text=True, timeout=30)

    def credentials_over_mtls(self) -> None:
        # Every node's provider answers for a certificate another node issued.
        for node in self.cluster.nodes:
            done = self.curl_credentials(node)
            assert done.returncode == 0, (done.stdout, done.stderr)
            credentials = json.loads(done.stdout)["credentials"]
            assert credentials["accessKeyId"].startswith("ASIA") and credentials["sessionToken"]
            self.state["tmp"] = credentials

    def device_client(self, service: str) -> Any:
        tmp = self.state["tmp"]
        return self.cluster.client(service, tmp["accessKeyId"], tmp["secretAccessKey"], tmp["sessionToken"])

    def upload_with_device_credentials(self) -> None:
        self.device_client("s3").put_object(Bucket=BUCKET, Key="device_output/hello.txt", Body=b"hi")
        assert ":assumed-role/SageMakerEdgeRole/" in self.device_client("sts").get_caller_identity()["Arn"]
        assert self.c("s3").get_object(Bucket=BUCKET, Key="device_output/hello.txt")["Body"].read() == b"hi"

    def awscli_s3_cp(self) -> None:
        for name in ["private.pem.key", "device.pem.crt"]:
            node = self.cluster.next()
            done = subprocess.run(
                ["aws", "s3", "cp", str(self.work / name), f"s3://{BUCKET}/authorization-files/"],
                capture_output=True,
                text=True,
                env=node.server.env(),
                timeout=60,
            )
            assert done.returncode == 0, done.stderr[-300:]
        listed = self.c("s3").list_objects_v2(Bucket=BUCKET, Prefix="authorization-files/")["Contents"]
        assert [item["Key"] for item in listed] == [
            "authorization-files/device.pem.crt",
            "authorization-files/private.pem.key",
        ]
        body = self.c("s3").get_object(Bucket=BUCKET, Key="authorization-files/device.pem.crt")["Body"].read()
        assert body == (self.work / "device.pem.crt").read_bytes()

    def access_keys_max_two(self) -> None:
        self.c("iam").create_user(UserName="mateojackson")
        first = self.c("iam").create_access_key(UserName="mateojackson")["AccessKey"]
        self.c("iam").create_access_key(UserName="mateojackson")
        with pytest.raises(ClientError) as third:
            self.c("iam").create_access_key(UserName="mateojackson")
        assert third.value.response["Error"]["Code"] == "LimitExceeded"
        listed = self.c("iam").list_access_keys(UserName="mateojackson")["AccessKeyMetadata"]
        assert len(listed) == 2 and all("SecretAccessKey" not in key for key in listed)
        self.state["mateo"] = (first["AccessKeyId"], first["SecretAccessKey"])

    def unauthorized_message(self) -> None:
        for node in self.cluster.nodes:  # the new key signs on every node
            with pytest.raises(ClientError) as denied:
                node.client("sagemaker", *self.state["mateo"]).describe_device(DeviceName=DEVICE, DeviceFleetName=FLEET)
            assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
            message = denied.value.response["Error"]["Message"]
            assert ":user/mateojackson is not authorized to perform: sagemaker:DescribeDevice on resource:" in message

    def passrole_enforced(self) -> None:
        self.c("iam").put_user_policy(
            UserName="mateojackson", PolicyName="fleet-no-pass", PolicyDocument=allow(["sagemaker:*"], "*")
        )
        written = time.monotonic()
        for node in self.cluster.nodes:  # the policy just written governs every node within a second
            within(1.0, functools.partial(self.passrole_denied, node), since=written)

    def passrole_denied(self, node: Node) -> bool:
        return "iam:PassRole" in self.create_fleet_denial(node)

    def create_fleet_denial(self, node: Node) -> str:
        with pytest.raises(ClientError) as denied:
            node.client("sagemaker", *self.state["mateo"]).create_device_fleet(
                DeviceFleetName="mateo-fleet",
                RoleArn=self.state["role_arn"],
                OutputConfig={"S3OutputLocation": f"s3://{BUCKET}/x"},
            )
        return str(denied.value.response["Error"]["Message"])

    def bad_signature_rejected(self) -> None:
        with pytest.raises(ClientError) as refused:
            self.cluster.client("iot", self.state["mateo"][0], "wrong" * 8).list_things()
        assert refused.value.response["Error"]["Code"] in ("InvalidSignatureException", "SignatureDoesNotMatch")

    def send_heartbeat(self) -> None:
        self.device_client("sagemaker-edge").send_heartbeat(
            AgentVersion="1.0",
            DeviceName=DEVICE,
            DeviceFleetName=FLEET,
            Models=[{"ModelName": "demo-model", "ModelVersion": "1.0"}],
        )
        described = self.c("sagemaker").describe_device(DeviceName=DEVICE, DeviceFleetName=FLEET)
        assert described.get("LatestHeartbeat") and described.get("AgentVersion") == "1.0"
        report = self.c("sagemaker").get_device_fleet_report(DeviceFleetName=FLEET)
        assert report["DeviceStats"]["RegisteredDeviceCount"] >= 1

    def revoked_certificate_refused(self) -> None:
        self.c("iot").update_certificate(certificateId=self.state["cert"]["certificateId"], newStatus="REVOKED")
        for node in self.cluster.nodes:
            done = self.curl_credentials(node, thing=None)
            assert done.returncode != 0, f"node {node.server.endpoint} still issues credentials: {done.stdout}"

    def steps(self) -> list[Callable[[], None]]:
        return [
            self.create_deeplens_roles,
            self.create_edge_role,
            self.create_bucket,
            self.create_thing_type_and_thing,
            self.create_device_fleet,
            self.register_devices,
            self.create_keys_and_certificate,
            self.fleet_role_alias,
            self.create_and_attach_policy,
            self.credentials_over_mtls,
            self.upload_with_device_credentials,
            self.awscli_s3_cp,
            self.access_keys_max_two,
            self.unauthorized_message,
            self.passrole_enforced,
            self.bad_signature_rejected,
            self.send_heartbeat,
            self.revoked_certificate_refused,
        ]


def test_seed_flow_round_robin_across_nodes(cluster: Cluster, tmp_path: Path) -> None:
    assert len({node.server.endpoint for node in cluster.nodes}) == 3
    flow = SeedFlow(cluster, tmp_path)
    for step in flow.steps():
        try:
            step()
        except Exception as exc:
            raise AssertionError(f"seed step {step.__name__} failed: {exc!r}") from exc
