"""Parsing and validation of policy documents: what IAM accepts, and what it refuses with which words."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from edgeward.core.errors import ServiceError
from edgeward.policy import (
    Caller,
    CallerKind,
    Effect,
    PolicyError,
    PolicyKind,
    Reason,
    Request,
    cached_policy,
    evaluate,
    parse_policy,
)

from .helpers import ACCOUNT, allow, document

V = "2012-10-17"
ID, R, T = PolicyKind.IDENTITY, PolicyKind.RESOURCE, PolicyKind.TRUST
TRUST_DOC = {
    "Version": V,
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Service": "credentials.iot.amazonaws.com"},
        "Action": "sts:AssumeRole",
    },
}
CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def _stmt(**fields: Any) -> str:
    return json.dumps({"Version": V, "Statement": [fields]})


def _principal(value: Any, kind: PolicyKind = R) -> str:
    if kind is T:
        return _stmt(Effect="Allow", Principal=value, Action="sts:AssumeRole")
    return _stmt(Effect="Allow", Principal=value, Action="s3:GetObject", Resource="*")


VALID: list[tuple[str, Any, PolicyKind]] = [
    ("statement object", {"Version": V, "Statement": allow("s3:GetObject")}, ID),
    ("statement list", document(allow("s3:*"), allow("iam:Get*", "arn:aws:iam::*:user/*")), ID),
    ("action list", document(allow(["s3:GetObject", "s3:PutObject"])), ID),
    ("not action", _stmt(Effect="Allow", NotAction="iam:*", Resource="*"), ID),
    ("not resource", _stmt(Effect="Deny", Action="s3:*", NotResource=["arn:aws:s3:::b/*"]), ID),
    ("id and sid", json.dumps({"Version": V, "Id": "p-1", "Statement": [allow(Sid="ReadAll1")]}), ID),
    ("legacy version", document(allow(), version="2008-10-17"), ID),
    ("no version", document(allow(), version=None), ID),
    ("empty sid", document(allow(Sid="")), ID),
    ("condition scalars", document(allow(Condition={"NumericLessThan": {"s3:max-keys": 10}})), ID),
    ("condition bool", document(allow(Condition={"Bool": {"aws:SecureTransport": True}})), ID),
    ("condition list", document(allow(Condition={"StringEquals": {"aws:TagKeys": ["a", "b"]}})), ID),
    ("empty condition", document(allow(Condition={})), ID),
    ("variable resource", document(allow("s3:*", "arn:aws:s3:::b/${aws:username}/*")), ID),
    ("partition wildcard", document(allow("s3:*", "arn:*:s3:::b")), ID),
    ("china partition", document(allow("s3:*", "arn:aws-cn:s3:::b")), ID),
    ("trust for iot", TRUST_DOC, T),
    ("trust sts wildcard", _principal({"AWS": ACCOUNT}, T).replace("sts:AssumeRole", "sts:*"), T),
    ("principal star", _principal("*"), R),
    ("principal aws star", _principal({"AWS": "*"}), R),
    ("principal account", _principal({"AWS": ACCOUNT}), R),
    ("principal root", _principal({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), R),
    ("principal user", _principal({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/a/b"]}), R),
    ("principal session", _principal({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"}), R),
    ("principal unique id", _principal({"AWS": "AROAEXAMPLEROLEID12345"}), R),
    ("principal service list", _principal({"Service": ["iot.amazonaws.com", "sagemaker.amazonaws.com"]}), R),
    ("principal federated", _principal({"Federated": "cognito-identity.amazonaws.com"}, T), T),
    ("principal canonical", _principal({"CanonicalUser": CANONICAL}), R),
    ("not principal", _stmt(Effect="Deny", NotPrincipal={"AWS": ACCOUNT}, Action="s3:*", Resource="*"), R),
    (
        "resource sid freedom",
        _stmt(Sid="Allow read-only", Effect="Allow", Principal="*", Action="s3:*", Resource="*"),
        R,
    ),
    ("bytes input", document(allow()).encode(), ID),
]


@pytest.mark.parametrize(("name", "doc", "kind"), VALID, ids=[v[0] for v in VALID])
def test_valid_documents_compile(name: str, doc: Any, kind: PolicyKind) -> None:
    policy = parse_policy(doc, kind)
    assert policy.kind is kind
    assert policy.statements
    assert all(s.effect in (Effect.ALLOW, Effect.DENY) for s in policy.statements)


SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_PRINCIPAL_HERE = "Policy document should not specify a principal."
PRINCIPAL_MISSING = "Missing required field Principal"

MALFORMED: list[tuple[str, Any, PolicyKind, str]] = [
    ("not json", "{not json", ID, SYNTAX),
    ("empty text", "", ID, SYNTAX),
    ("json array", "[]", ID, SYNTAX),
    ("json null", "null", ID, SYNTAX),
    ("not a document", 42, ID, SYNTAX),
    ("empty statement list", '{"Version":"2012-10-17","Statement":[]}', ID, SYNTAX),
    ("no statement", '{"Version":"2012-10-17"}', ID, SYNTAX),
    ("statement string", '{"Version":"2012-10-17","Statement":"hello"}', ID, SYNTAX),
    ("statement item not object", '{"Version":"2012-10-17","Statement":[1]}', ID, SYNTAX),
    ("unknown version", document(allow(), version="2020-01-01"), ID, SYNTAX),
    ("numeric version", '{"Version":2012,"Statement":[]}', ID, SYNTAX),
    ("id not string", '{"Version":"2012-10-17","Id":5,"Statement":{"Effect":"Allow"}}', ID, SYNTAX),
    ("duplicate key", '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}', ID, SYNTAX),
    (
        "nan",
        _stmt(Effect="Allow", Action="s3:*", Resource="*").replace('"*"}', '"*", "Condition": NaN}'),
        ID,
        SYNTAX,
    ),
    (
        "unknown top field",
        json.dumps({"Version": V, "Comment": "x", "Statement": [allow()]}),
        ID,
        "Unknown field Comment",
    ),
    ("lower-case statement", json.dumps({"version": V, "statement": [allow()]}), ID, "Unknown field version"),
    (
        "unknown statement field",
        _stmt(Effect="Allow", Actions="s3:*", Resource="*"),
        ID,
        "Unknown field Actions",
    ),
    ("missing effect", _stmt(Action="s3:*", Resource="*"), ID, SYNTAX),
    ("lower-case effect", _stmt(Effect="allow", Action="s3:*", Resource="*"), ID, LEGACY),
    ("numeric effect", _stmt(Effect=1, Action="s3:*", Resource="*"), ID, LEGACY),
    ("empty object", "{}", ID, SYNTAX),
    ("no version no statement list", '{"Statement":[]}', ID, SYNTAX),
    (
        "no version bad action type",
        document({"Effect": "Allow", "Action": 5, "Resource": "*"}, version=None),
        ID,
        LEGACY,
    ),
    ("no version missing effect", document({"Action": "s3:*", "Resource": "*"}, version=None), ID, LEGACY),
    (
        "action and not action",
        _stmt(Effect="Allow", Action="s3:*", NotAction="iam:*", Resource="*"),
        ID,
        SYNTAX,
    ),
    (
        "resource and not resource",
        _stmt(Effect="Allow", Action="s3:*", Resource="*", NotResource="*"),
        ID,
        SYNTAX,
    ),
    ("numeric action", _stmt(Effect="Allow", Action=123, Resource="*"), ID, SYNTAX),
    ("object resource", _stmt(Effect="Allow", Action="s3:*", Resource={"a": 1}), ID, SYNTAX),
    ("missing action", _stmt(Effect="Allow", Resource="*"), ID, NO_ACTIONS),
    ("empty action list", _stmt(Effect="Allow", Action=[], Resource="*"), ID, NO_ACTIONS),
    ("missing resource", _stmt(Effect="Allow", Action="s3:*"), ID, NO_RESOURCES),
    ("empty resource list", _stmt(Effect="Allow", Action="s3:*", Resource=[]), ID, NO_RESOURCES),
    ("resource policy no resource", _stmt(Effect="Allow", Principal="*", Action="s3:*"), R, NO_RESOURCES),
    ("action without vendor", _stmt(Effect="Allow", Action="GetObject", Resource="*"), ID, VENDOR),
    ("empty action", _stmt(Effect="Allow", Action="", Resource="*"), ID, VENDOR),
    (
        "two colons",
        _stmt(Effect="Allow", Action="s3:Get:Object", Resource="*"),
        ID,
        "Actions/Condition can contain only one colon.",
    ),
    ("empty vendor", _stmt(Effect="Allow", Action=":GetObject", Resource="*"), ID, "Vendor  is not valid"),
    (
        "bad vendor",
        _stmt(Effect="Allow", Action="s 3:GetObject", Resource="*"),
        ID,
        "Vendor s 3 is not valid",
    ),
    (
        "wildcard vendor",
        _stmt(Effect="Allow", Action="*:GetObject", Resource="*"),
        ID,
        "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards.",
    ),
    (
        "resource not arn",
        _stmt(Effect="Allow", Action="s3:*", Resource="bucket"),
        ID,
        'Resource bucket must be in ARN format or "*".',
    ),
    (
        "resource empty",
        _stmt(Effect="Allow", Action="s3:*", Resource=""),
        ID,
        'Resource  must be in ARN format or "*".',
    ),
    ("resource short arn", _stmt(Effect="Allow", Action="s3:*", Resource="arn:aws:s3"), ID, LEGACY),
    (
        "resource bad partition",
        _stmt(Effect="Allow", Action="s3:*", Resource="arn:aws2:s3:::b"),
        ID,
        'Partition "aws2" is not valid for resource "arn:aws2:s3:::b".',
    ),
    ("identity with principal", _principal("*", R), ID, NO_PRINCIPAL_HERE),
    (
        "identity with not principal",
        _stmt(Effect="Deny", NotPrincipal="*", Action="s3:*", Resource="*"),
        ID,
        NO_PRINCIPAL_HERE,
    ),
    ("resource without principal", document(allow()), R, PRINCIPAL_MISSING),
    ("trust without principal", _stmt(Effect="Allow", Action="sts:AssumeRole"), T, PRINCIPAL_MISSING),
    (
        "trust with resource",
        _stmt(Effect="Allow", Principal="*", Action="sts:AssumeRole", Resource="*"),
        T,
        "Has prohibited field Resource",
    ),
    (
        "trust with not resource",
        _stmt(Effect="Allow", Principal="*", Action="sts:AssumeRole", NotResource="*"),
        T,
        "Has prohibited field NotResource",
    ),
    (
        "trust non sts action",
        _stmt(Effect="Allow", Principal="*", Action="s3:GetObject"),
        T,
        "AssumeRole policy may only specify STS AssumeRole actions.",
    ),
    (
        "principal and not principal",
        _stmt(Effect="Allow", Principal="*", NotPrincipal="*", Action="s3:*", Resource="*"),
        R,
        SYNTAX,
    ),
    ("principal plain name", _principal({"AWS": "bob"}), R, 'Invalid principal in policy: "AWS":"bob"'),
    (
        "principal arn wildcard",
        _principal({"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"}),
        R,
        f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/*"',
    ),
    (
        "principal unknown type",
        _principal({"Group": "admins"}),
        R,
        'Invalid principal in policy: "Group":"admins"',
    ),
    ("principal bare arn", _principal(f"arn:aws:iam::{ACCOUNT}:root"), R, "Invalid principal in policy"),
    (
        "principal empty service",
        _principal({"Service": ""}, T),
        T,
        'Invalid principal in policy: "Service":""',
    ),
    ("principal empty list", _principal({"AWS": []}), R, 'Invalid principal in policy: "AWS":"[]"'),
    ("principal empty object", _principal({}), R, "Invalid principal in policy"),
    (
        "principal bad canonical",
        _principal({"CanonicalUser": "abc"}),
        R,
        'Invalid principal in policy: "CanonicalUser":"abc"',
    ),
    (
        "duplicate sid",
        document(allow(Sid="A"), allow(Sid="A")),
        ID,
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    (
        "sid with dash",
        document(allow(Sid="read-all")),
        ID,
        "Statement IDs (SID) must be alpha-numeric. "
        "Check that your input satisfies the regular expression [0-9A-Za-z]*",
    ),
    ("sid number", document(allow(Sid=5)), ID, SYNTAX),
    (
        "unknown operator",
        document(allow(Condition={"StringEqualz": {"aws:username": "a"}})),
        ID,
        "Invalid Condition type : StringEqualz",
    ),
    (
        "null if exists",
        document(allow(Condition={"NullIfExists": {"aws:username": "true"}})),
        ID,
        "Invalid Condition type : NullIfExists",
    ),
    (
        "set null",
        document(allow(Condition={"ForAllValues:Null": {"aws:TagKeys": "true"}})),
        ID,
        "Invalid Condition type : ForAllValues:Null",
    ),
    (
        "bad set prefix",
        document(allow(Condition={"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}})),
        ID,
        "Invalid Condition type : ForSomeValues:StringEquals",
    ),
    (
        "condition key without vendor",
        document(allow(Condition={"StringEquals": {"username": "a"}})),
        ID,
        VENDOR,
    ),
    ("condition null value", document(allow(Condition={"StringEquals": {"aws:username": None}})), ID, SYNTAX),
    (
        "condition nested value",
        document(allow(Condition={"StringEquals": {"aws:username": {"a": 1}}})),
        ID,
        SYNTAX,
    ),
    ("condition empty values", document(allow(Condition={"StringEquals": {"aws:username": []}})), ID, SYNTAX),
    ("condition empty operator", document(allow(Condition={"StringEquals": {}})), ID, SYNTAX),
    ("condition not object", document(allow(Condition=["StringEquals"])), ID, SYNTAX),
]


@pytest.mark.parametrize(("name", "doc", "kind", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_documents_are_refused_with_iam_wording(name: str, doc: Any, kind: PolicyKind, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(doc, kind)
    assert caught.value.message == message
    assert caught.value.code == "MalformedPolicyDocument"
    assert caught.value.status == 400


def test_policy_error_is_a_service_error_with_a_reason() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_policy(document(allow(Principal="*")))
    assert isinstance(caught.value, PolicyError)
    assert caught.value.reason is Reason.PRINCIPAL_FORBIDDEN


def test_dict_input_equals_text_input() -> None:
    text = document(allow("s3:GetObject", "arn:aws:s3:::b/*", Sid="x"), version=None)
    from_dict, from_text = parse_policy(json.loads(text)), parse_policy(text)
    assert (from_dict.version, from_dict.statements[0].sid) == (
        from_text.version,
        from_text.statements[0].sid,
    )


def test_cached_policy_compiles_once() -> None:
    text = document(allow("iam:GetUser"))
    assert cached_policy(text) is cached_policy(text)
    assert cached_policy(text, PolicyKind.IDENTITY) is not cached_policy(text.replace("iam:GetUser", "iam:ListUsers"))


def test_with_source_keeps_statements() -> None:
    policy = parse_policy(document(allow()))
    named = policy.with_source("arn:aws:iam::aws:policy/ReadOnlyAccess", "aws-managed")
    assert named.statements is policy.statements
    assert (named.source_id, named.source_type) == ("arn:aws:iam::aws:policy/ReadOnlyAccess", "aws-managed")


def test_version_controls_variables() -> None:
    assert parse_policy(document(allow(), version="2012-10-17")).variables_enabled
    assert not parse_policy(document(allow(), version="2008-10-17")).variables_enabled
    assert not parse_policy(document(allow(), version=None)).variables_enabled


# --- random documents: every outcome is a Policy or a PolicyError, never another exception ----------

_ATOMS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    3.5,
    "",
    "*",
    "s3:GetObject",
    "Allow",
    "Deny",
    "arn:aws:s3:::b/*",
    "arn:",
    "${aws:username}",
    "iam:*",
    ACCOUNT,
    "2012-10-17",
    "sts:AssumeRole",
    "a:b:c",
    [],
    {},
]
_KEYS = [
    "Version",
    "Statement",
    "Id",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "AWS",
    "Service",
    "StringEquals",
    "ForAnyValue:StringLike",
    "Null",
    "aws:username",
    "IpAddress",
    "DateLessThan",
    "x",
]


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(_ATOMS)
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _mutate(rng: random.Random, value: Any) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        copy = dict(value)
        action = rng.random()
        if action < 0.3:
            del copy[key]
        elif action < 0.6:
            copy[key] = _mutate(rng, copy[key])
        else:
            copy[rng.choice(_KEYS)] = _random_value(rng, 2)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        items = list(value)
        index = rng.randrange(len(items))
        items[index] = _mutate(rng, items[index])
        return items
    return _random_value(rng, 1)


_SEEDS: list[dict[str, Any]] = [
    json.loads(
        document(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/${aws:username}/*",
                Condition={"Bool": {"aws:SecureTransport": "true"}},
            )
        )
    ),
    json.loads(_principal({"AWS": ACCOUNT})),
    TRUST_DOC,
]


@pytest.mark.parametrize("seed", range(8))
def test_random_documents_never_escape_as_other_exceptions(seed: int) -> None:
    rng = random.Random(seed)
    caller = Caller(CallerKind.USER, f"arn:aws:iam::{ACCOUNT}:user/u", ACCOUNT)
    for _ in range(150):
        base = rng.choice(_SEEDS)
        doc: Any = _mutate(rng, _mutate(rng, base)) if rng.random() < 0.85 else _random_value(rng, 0)
        if rng.random() < 0.5:
            doc = json.dumps(doc)
            if rng.random() < 0.2 and doc:
                cut = rng.randrange(len(doc))
                doc = doc[:cut] + rng.choice(['"', "{", "]", ",", ""]) + doc[cut + 1 :]
        kind = rng.choice(list(PolicyKind))
        try:
            policy = parse_policy(doc, kind)
        except PolicyError:
            continue
        if kind is not PolicyKind.IDENTITY:
            continue
        request = Request(caller, "s3:GetObject", "arn:aws:s3:::b/u/k", {"aws:username": "u"})
        evaluate(request, [policy])
