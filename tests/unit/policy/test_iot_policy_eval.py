"""The IoT policy decision (`iot_allows`) with IoT's policy variables, and IoT's document rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgeward.core.errors import ServiceError
from edgeward.services.iot.policies import valid_document
from edgeward.services.iot.policy_eval import iot_allows

ACCOUNT = "123456789012"
ALIAS_ARN = f"arn:aws:iot:us-east-1:{ACCOUNT}:rolealias/SageMakerEdge-fleet"
CERT_ID = "a" * 64
THING_VARS = {
    "iot:Connection.Thing.ThingName": "sample-device",
    "iot:Connection.Thing.ThingTypeName": "getting-started-demo",
    "iot:Connection.Thing.Attributes[color]": "red",
    "iot:Connection.Thing.IsAttached": "true",
    "iot:Certificate.Subject.CommonName": "sample-device",
    "iot:CertificateId": CERT_ID,
    "iot:ClientId": "sample-device",
}


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action: str | list[str], resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


ASSUME = "iot:AssumeRoleWithCertificate"


def test_the_seed_policy_allows_assuming_through_its_alias_only() -> None:
    seed = json.dumps(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ASSUME, "Resource": ALIAS_ARN}}
    )
    assert iot_allows([seed], ASSUME, ALIAS_ARN, {})
    assert not iot_allows([seed], ASSUME, ALIAS_ARN.replace("fleet", "other"), {})
    assert not iot_allows([seed], "iot:Connect", ALIAS_ARN, {})
    assert iot_allows([seed], "IOT:assumerolewithcertificate", ALIAS_ARN, {})  # actions are case-insensitive


def test_no_policy_allows_nothing() -> None:
    assert not iot_allows([], ASSUME, ALIAS_ARN, THING_VARS)


def test_an_explicit_deny_in_any_policy_wins() -> None:
    allowing = doc(allow("iot:*", "*"))
    denying = doc(deny(ASSUME, f"arn:aws:iot:us-east-1:{ACCOUNT}:rolealias/*"))
    assert iot_allows([allowing], ASSUME, ALIAS_ARN, {})
    assert not iot_allows([allowing, denying], ASSUME, ALIAS_ARN, {})
    assert iot_allows([allowing, denying], "iot:Connect", f"arn:aws:iot:us-east-1:{ACCOUNT}:client/x", {})


@pytest.mark.parametrize(
    ("resource_template", "resource", "allowed"),
    [
        ("client/${iot:Connection.Thing.ThingName}", "client/sample-device", True),
        ("client/${iot:Connection.Thing.ThingName}", "client/other-device", False),
        ("client/${iot:ClientId}", "client/sample-device", True),
        ("topic/${iot:Connection.Thing.ThingTypeName}/*", "topic/getting-started-demo/t", True),
        ("topic/${iot:Connection.Thing.Attributes[color]}", "topic/red", True),
        ("topic/${iot:Connection.Thing.Attributes[color]}", "topic/blue", False),
        ("cert/${iot:CertificateId}", f"cert/{CERT_ID}", True),
        ("topic/${iot:Certificate.Subject.CommonName}", "topic/sample-device", True),
    ],
)
def test_policy_variables_resolve_in_resources(resource_template: str, resource: str, allowed: bool) -> None:
    prefix = f"arn:aws:iot:us-east-1:{ACCOUNT}:"
    policy = doc(allow("iot:*", prefix + resource_template))
    assert iot_allows([policy], "iot:Publish", prefix + resource, THING_VARS) is allowed


def test_an_absent_variable_matches_nothing() -> None:
    prefix = f"arn:aws:iot:us-east-1:{ACCOUNT}:"
    policy = doc(allow("iot:Connect", prefix + "client/${iot:Connection.Thing.ThingName}"))
    no_thing = {k: v for k, v in THING_VARS.items() if not k.startswith("iot:Connection.Thing.")}
    assert not iot_allows([policy], "iot:Connect", prefix + "client/sample-device", no_thing)
    # a literal `${...}` text is not a way around it
    assert not iot_allows([policy], "iot:Connect", prefix + "client/${iot:Connection.Thing.ThingName}", no_thing)
    # a Deny with an unresolvable variable denies nothing either
    both = [doc(allow("iot:*", "*")), doc(deny("iot:*", prefix + "client/${iot:Connection.Thing.ThingName}"))]
    assert iot_allows(both, "iot:Connect", prefix + "client/sample-device", no_thing)
    assert not iot_allows(both, "iot:Connect", prefix + "client/sample-device", THING_VARS)


def test_variables_are_literal_in_2008_documents() -> None:
    prefix = f"arn:aws:iot:us-east-1:{ACCOUNT}:"
    policy = doc(allow("iot:Connect", prefix + "client/${iot:ClientId}"), version="2008-10-17")
    assert not iot_allows([policy], "iot:Connect", prefix + "client/sample-device", THING_VARS)


def test_a_substituted_value_is_never_a_wildcard() -> None:
    prefix = f"arn:aws:iot:us-east-1:{ACCOUNT}:"
    policy = doc(allow("iot:Connect", prefix + "client/${iot:ClientId}"))
    assert not iot_allows([policy], "iot:Connect", prefix + "client/anything", {**THING_VARS, "iot:ClientId": "*"})


def test_conditions_on_iot_keys() -> None:
    attached_only = doc(
        allow(ASSUME, ALIAS_ARN, Condition={"Bool": {"iot:Connection.Thing.IsAttached": "true"}}),
    )
    assert iot_allows([attached_only], ASSUME, ALIAS_ARN, THING_VARS)
    assert not iot_allows([attached_only], ASSUME, ALIAS_ARN, {"iot:CertificateId": CERT_ID})
    red_only = doc(
        allow(ASSUME, ALIAS_ARN, Condition={"StringEquals": {"iot:Connection.Thing.Attributes[color]": "red"}})
    )
    assert iot_allows([red_only], ASSUME, ALIAS_ARN, THING_VARS)
    blue = {**THING_VARS, "iot:Connection.Thing.Attributes[color]": "blue"}
    assert not iot_allows([red_only], ASSUME, ALIAS_ARN, blue)


def test_a_stored_document_that_does_not_parse_grants_nothing() -> None:
    assert not iot_allows(["{not json"], ASSUME, ALIAS_ARN, {})
    assert iot_allows(["{not json", doc(allow(ASSUME, ALIAS_ARN))], ASSUME, ALIAS_ARN, {})


# -- what IoT accepts as a policy document -----------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        doc(allow(ASSUME, ALIAS_ARN)),
        doc(allow("iot:*", "*"), version="2008-10-17"),
        doc(allow(["iot:Connect", "iot:Publish"], "*"), deny("iot:Publish", "arn:aws:iot:*:*:topic/secret")),
        doc(allow("greengrass:*", "*")),
        doc(allow("*", "*")),
    ],
)
def test_valid_iot_documents(document: str) -> None:
    assert valid_document(document) == document


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{not json", "Syntax errors"),
        (json.dumps({"Statement": [allow("iot:*", "*")]}), "Version"),
        (doc(allow("s3:GetObject", "*")), "not an IoT action"),
        (doc({"Effect": "Allow", "NotAction": "sts:*", "Resource": "*"}), "not an IoT action"),
        (doc({"Effect": "Allow", "Action": "iot:*"}), "resources"),
        (doc(allow("iot:*", "*", Principal="*")), "principal"),
        (doc(allow("iot:*", "not-an-arn")), "ARN"),
        (
            doc(*[allow("iot:Publish", f"arn:aws:iot:us-east-1:{ACCOUNT}:topic/{'t' * 60}/{i}") for i in range(40)]),
            "large",
        ),
    ],
)
def test_malformed_iot_documents(document: str, fragment: str) -> None:
    with pytest.raises(ServiceError) as caught:
        valid_document(document)
    assert (caught.value.code, caught.value.status) == ("MalformedPolicyException", 400)
    assert fragment in caught.value.message
