"""Every condition operator of spec 4.4, with IfExists, Null, set prefixes and absent keys."""

from __future__ import annotations

from typing import Any

import pytest

from edgeward.policy import ConditionContext
from edgeward.policy.conditions import condition_block

B64 = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="  # "BinaryValueInBase64"
TIME = "aws:CurrentTime"
ROLE = "arn:aws:iam::123456789012:role/*"


def holds(condition: dict[str, Any], context: dict[str, Any], *, variables: bool = True) -> bool:
    block = condition_block(condition, variables=variables)
    assert block is not None
    return block.holds(ConditionContext(context))


def _one(op: str, key: str, value: Any) -> dict[str, Any]:
    return {op: {key: value}}


CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # String
    ("equals", _one("StringEquals", "aws:username", "bob"), {"aws:username": "bob"}, True),
    ("equals is case-sensitive", _one("StringEquals", "aws:username", "bob"), {"aws:username": "Bob"}, False),
    ("equals absent", _one("StringEquals", "aws:username", "bob"), {}, False),
    ("equals values ORed", _one("StringEquals", "s3:prefix", ["a", "b"]), {"s3:prefix": "b"}, True),
    ("key name case-insensitive", _one("StringEquals", "AWS:UserName", "bob"), {"aws:USERNAME": "bob"}, True),
    ("equals star is literal", _one("StringEquals", "s3:prefix", "a*"), {"s3:prefix": "abc"}, False),
    ("not equals match", _one("StringNotEquals", "aws:username", "bob"), {"aws:username": "bob"}, False),
    ("not equals other", _one("StringNotEquals", "aws:username", "bob"), {"aws:username": "eve"}, True),
    ("not equals absent", _one("StringNotEquals", "aws:username", "bob"), {}, True),
    (
        "not equals any listed",
        _one("StringNotEquals", "aws:username", ["a", "b"]),
        {"aws:username": "b"},
        False,
    ),
    ("ignore case", _one("StringEqualsIgnoreCase", "aws:username", "BOB"), {"aws:username": "bob"}, True),
    (
        "ignore case other",
        _one("StringEqualsIgnoreCase", "aws:username", "BOB"),
        {"aws:username": "eve"},
        False,
    ),
    (
        "not ignore case",
        _one("StringNotEqualsIgnoreCase", "aws:username", "BOB"),
        {"aws:username": "bob"},
        False,
    ),
    ("not ignore case absent", _one("StringNotEqualsIgnoreCase", "aws:username", "BOB"), {}, True),
    ("like star", _one("StringLike", "s3:prefix", "home/*"), {"s3:prefix": "home/bob/x"}, True),
    ("like question", _one("StringLike", "s3:prefix", "?ob"), {"s3:prefix": "bob"}, True),
    ("like question one char", _one("StringLike", "s3:prefix", "?ob"), {"s3:prefix": "blob"}, False),
    ("like case-sensitive", _one("StringLike", "s3:prefix", "Home/*"), {"s3:prefix": "home/x"}, False),
    ("like whole string", _one("StringLike", "s3:prefix", "home"), {"s3:prefix": "home/x"}, False),
    ("like absent", _one("StringLike", "s3:prefix", "*"), {}, False),
    ("not like match", _one("StringNotLike", "s3:prefix", "home/*"), {"s3:prefix": "home/x"}, False),
    ("not like other", _one("StringNotLike", "s3:prefix", "home/*"), {"s3:prefix": "tmp/x"}, True),
    ("not like absent", _one("StringNotLike", "s3:prefix", "home/*"), {}, True),
    # Numeric
    ("num equals", _one("NumericEquals", "s3:max-keys", "10"), {"s3:max-keys": "10"}, True),
    ("num equals float", _one("NumericEquals", "s3:max-keys", 10), {"s3:max-keys": "10.0"}, True),
    ("num equals other", _one("NumericEquals", "s3:max-keys", "10"), {"s3:max-keys": "11"}, False),
    ("num not equals", _one("NumericNotEquals", "s3:max-keys", "10"), {"s3:max-keys": "11"}, True),
    ("num not equals same", _one("NumericNotEquals", "s3:max-keys", "10"), {"s3:max-keys": "10"}, False),
    ("num not equals absent", _one("NumericNotEquals", "s3:max-keys", "10"), {}, True),
    ("num less", _one("NumericLessThan", "s3:max-keys", "10"), {"s3:max-keys": "5"}, True),
    ("num less not", _one("NumericLessThan", "s3:max-keys", "10"), {"s3:max-keys": "10"}, False),
    ("num less equals", _one("NumericLessThanEquals", "s3:max-keys", "10"), {"s3:max-keys": "10"}, True),
    ("num greater", _one("NumericGreaterThan", "s3:max-keys", "10"), {"s3:max-keys": "10.5"}, True),
    ("num greater not", _one("NumericGreaterThan", "s3:max-keys", "10"), {"s3:max-keys": "-3"}, False),
    (
        "num greater equals",
        _one("NumericGreaterThanEquals", "s3:max-keys", "10"),
        {"s3:max-keys": "10"},
        True,
    ),
    ("num absent", _one("NumericLessThan", "s3:max-keys", "10"), {}, False),
    ("num garbage", _one("NumericLessThan", "s3:max-keys", "10"), {"s3:max-keys": "many"}, False),
    # Date
    (
        "date greater",
        _one("DateGreaterThan", TIME, "2020-01-01T00:00:00Z"),
        {TIME: "2021-06-01T12:00:00Z"},
        True,
    ),
    (
        "date greater not",
        _one("DateGreaterThan", TIME, "2020-01-01T00:00:00Z"),
        {TIME: "2019-06-01T12:00:00Z"},
        False,
    ),
    ("date less", _one("DateLessThan", TIME, "2020-01-01T00:00:00Z"), {TIME: "2019-12-31T23:59:59Z"}, True),
    (
        "date less equals",
        _one("DateLessThanEquals", TIME, "2020-01-01T00:00:00Z"),
        {TIME: "2020-01-01T00:00:00Z"},
        True,
    ),
    (
        "date greater equals",
        _one("DateGreaterThanEquals", TIME, "2020-01-01"),
        {TIME: "2020-01-01T00:00:00Z"},
        True,
    ),
    (
        "date equals offsets",
        _one("DateEquals", TIME, "2020-01-01T00:00:00Z"),
        {TIME: "2020-01-01T01:00:00+01:00"},
        True,
    ),
    (
        "date not equals",
        _one("DateNotEquals", TIME, "2020-01-01T00:00:00Z"),
        {TIME: "2020-01-02T00:00:00Z"},
        True,
    ),
    ("date not equals absent", _one("DateNotEquals", TIME, "2020-01-01T00:00:00Z"), {}, True),
    (
        "date epoch context",
        _one("DateGreaterThan", "aws:EpochTime", "2020-01-01T00:00:00Z"),
        {"aws:EpochTime": "1700000000"},
        True,
    ),
    ("date epoch policy", _one("DateLessThan", TIME, "1577836800"), {TIME: "2019-12-31T23:00:00Z"}, True),
    (
        "date fractional",
        _one("DateLessThan", TIME, "2020-01-01T00:00:00.500Z"),
        {TIME: "2020-01-01T00:00:00.250Z"},
        True,
    ),
    ("date absent", _one("DateLessThan", TIME, "2020-01-01T00:00:00Z"), {}, False),
    ("date garbage", _one("DateLessThan", TIME, "2020-01-01T00:00:00Z"), {TIME: "yesterday"}, False),
    # Bool
    ("bool true", _one("Bool", "aws:SecureTransport", "true"), {"aws:SecureTransport": "true"}, True),
    ("bool json true", _one("Bool", "aws:SecureTransport", True), {"aws:SecureTransport": "TRUE"}, True),
    ("bool mismatch", _one("Bool", "aws:SecureTransport", "true"), {"aws:SecureTransport": "false"}, False),
    ("bool false absent", _one("Bool", "aws:SecureTransport", "false"), {}, False),
    ("bool if exists absent", _one("BoolIfExists", "aws:MultiFactorAuthPresent", "false"), {}, True),
    (
        "bool if exists present",
        _one("BoolIfExists", "aws:MultiFactorAuthPresent", "false"),
        {"aws:MultiFactorAuthPresent": "true"},
        False,
    ),
    # Binary
    ("binary equals", _one("BinaryEquals", "k:bin", B64), {"k:bin": B64}, True),
    ("binary other", _one("BinaryEquals", "k:bin", B64), {"k:bin": "b3RoZXI="}, False),
    ("binary garbage", _one("BinaryEquals", "k:bin", B64), {"k:bin": "%%%"}, False),
    ("binary absent", _one("BinaryEquals", "k:bin", B64), {}, False),
    # IP
    (
        "ip in cidr",
        _one("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
        {"aws:SourceIp": "203.0.113.7"},
        True,
    ),
    (
        "ip outside",
        _one("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
        {"aws:SourceIp": "198.51.100.1"},
        False,
    ),
    ("ip single", _one("IpAddress", "aws:SourceIp", "10.0.0.1"), {"aws:SourceIp": "10.0.0.1"}, True),
    (
        "ip list",
        _one("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.168.0.0/16"]),
        {"aws:SourceIp": "192.168.4.4"},
        True,
    ),
    (
        "ip v6",
        _one("IpAddress", "aws:SourceIp", "2001:DB8:1234:5678::/64"),
        {"aws:SourceIp": "2001:db8:1234:5678::1"},
        True,
    ),
    ("ip v4 vs v6", _one("IpAddress", "aws:SourceIp", "::/0"), {"aws:SourceIp": "10.0.0.1"}, False),
    ("ip garbage", _one("IpAddress", "aws:SourceIp", "10.0.0.0/8"), {"aws:SourceIp": "localhost"}, False),
    (
        "not ip inside",
        _one("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
        {"aws:SourceIp": "10.1.2.3"},
        False,
    ),
    (
        "not ip outside",
        _one("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
        {"aws:SourceIp": "11.1.2.3"},
        True,
    ),
    ("not ip absent", _one("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"), {}, True),
    # ARN
    (
        "arn like",
        _one("ArnLike", "aws:PrincipalArn", ROLE),
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/a/b"},
        True,
    ),
    (
        "arn equals wildcard",
        _one("ArnEquals", "aws:PrincipalArn", ROLE),
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/x"},
        True,
    ),
    (
        "arn like other type",
        _one("ArnLike", "aws:PrincipalArn", ROLE),
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:user/x"},
        False,
    ),
    (
        "arn like segment",
        _one("ArnLike", "aws:SourceArn", "arn:aws:sqs:*:123456789012:q*"),
        {"aws:SourceArn": "arn:aws:sqs:us-east-1:123456789012:q1"},
        True,
    ),
    (
        "arn like stays in segment",
        _one("ArnLike", "aws:SourceArn", "arn:aws:sqs:us-*:123456789012:q"),
        {"aws:SourceArn": "arn:aws:sqs:us-east-1:x:123456789012:q"},
        False,
    ),
    (
        "arn like case",
        _one("ArnLike", "aws:SourceArn", "arn:aws:sqs:*:*:Q"),
        {"aws:SourceArn": "arn:aws:sqs:r:1:q"},
        False,
    ),
    (
        "arn like not an arn",
        _one("ArnLike", "aws:SourceArn", "arn:aws:sqs:*:*:*"),
        {"aws:SourceArn": "sqs"},
        False,
    ),
    (
        "arn not like",
        _one("ArnNotLike", "aws:PrincipalArn", ROLE),
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/x"},
        False,
    ),
    (
        "arn not equals other",
        _one("ArnNotEquals", "aws:PrincipalArn", ROLE),
        {"aws:PrincipalArn": "arn:aws:iam::123456789012:user/x"},
        True,
    ),
    ("arn not like absent", _one("ArnNotLike", "aws:PrincipalArn", ROLE), {}, True),
    ("arn like absent", _one("ArnLike", "aws:PrincipalArn", ROLE), {}, False),
    # Null
    ("null true absent", _one("Null", "aws:TokenIssueTime", "true"), {}, True),
    ("null true present", _one("Null", "aws:TokenIssueTime", "true"), {"aws:TokenIssueTime": "x"}, False),
    ("null false present", _one("Null", "aws:TokenIssueTime", "false"), {"aws:TokenIssueTime": "x"}, True),
    ("null false absent", _one("Null", "aws:TokenIssueTime", False), {}, False),
    ("null empty list", _one("Null", "aws:TagKeys", "true"), {"aws:TagKeys": []}, True),
    # IfExists
    ("if exists absent", _one("StringEqualsIfExists", "ec2:InstanceType", "t2.micro"), {}, True),
    (
        "if exists mismatch",
        _one("StringEqualsIfExists", "ec2:InstanceType", "t2.micro"),
        {"ec2:InstanceType": "m5"},
        False,
    ),
    (
        "if exists match",
        _one("StringEqualsIfExists", "ec2:InstanceType", "t2.micro"),
        {"ec2:InstanceType": "t2.micro"},
        True,
    ),
    ("num if exists absent", _one("NumericLessThanIfExists", "s3:max-keys", "10"), {}, True),
    ("ip if exists absent", _one("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8"), {}, True),
    ("arn if exists absent", _one("ArnLikeIfExists", "aws:SourceArn", ROLE), {}, True),
    (
        "not equals if exists",
        _one("StringNotEqualsIfExists", "iam:PassedToService", "x"),
        {"iam:PassedToService": "x"},
        False,
    ),
    # Set operators
    (
        "all values subset",
        _one("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"]),
        {"aws:TagKeys": ["a"]},
        True,
    ),
    (
        "all values stray",
        _one("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"]),
        {"aws:TagKeys": ["a", "c"]},
        False,
    ),
    ("all values absent", _one("ForAllValues:StringEquals", "aws:TagKeys", ["a"]), {}, True),
    ("all values empty", _one("ForAllValues:StringEquals", "aws:TagKeys", ["a"]), {"aws:TagKeys": []}, True),
    (
        "all values like",
        _one("ForAllValues:StringLike", "aws:TagKeys", "env-*"),
        {"aws:TagKeys": ["env-a", "env-b"]},
        True,
    ),
    (
        "all values not equals",
        _one("ForAllValues:StringNotEquals", "aws:TagKeys", "secret"),
        {"aws:TagKeys": ["a", "b"]},
        True,
    ),
    (
        "all values not equals hit",
        _one("ForAllValues:StringNotEquals", "aws:TagKeys", "secret"),
        {"aws:TagKeys": ["a", "secret"]},
        False,
    ),
    (
        "any value hit",
        _one("ForAnyValue:StringEquals", "aws:TagKeys", ["a", "b"]),
        {"aws:TagKeys": ["c", "a"]},
        True,
    ),
    (
        "any value miss",
        _one("ForAnyValue:StringEquals", "aws:TagKeys", ["a", "b"]),
        {"aws:TagKeys": ["c"]},
        False,
    ),
    ("any value absent", _one("ForAnyValue:StringEquals", "aws:TagKeys", ["a"]), {}, False),
    ("any value empty", _one("ForAnyValue:StringEquals", "aws:TagKeys", ["a"]), {"aws:TagKeys": []}, False),
    (
        "any value not equals",
        _one("ForAnyValue:StringNotEquals", "aws:TagKeys", "a"),
        {"aws:TagKeys": ["a", "x"]},
        True,
    ),
    (
        "any value not equals all",
        _one("ForAnyValue:StringNotEquals", "aws:TagKeys", "a"),
        {"aws:TagKeys": ["a"]},
        False,
    ),
    (
        "any value like",
        _one("ForAnyValue:StringLike", "aws:TagKeys", "env-*"),
        {"aws:TagKeys": ["x", "env-prod"]},
        True,
    ),
    ("any value if exists absent", _one("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "a"), {}, True),
    (
        "set on single value",
        _one("ForAnyValue:StringEquals", "aws:username", "bob"),
        {"aws:username": "bob"},
        True,
    ),
    ("set prefix case", _one("forallvalues:StringEquals", "aws:TagKeys", "a"), {"aws:TagKeys": ["a"]}, True),
    # Multivalued key with a plain operator
    ("multi plain any", _one("StringEquals", "aws:TagKeys", "bob"), {"aws:TagKeys": ["x", "bob"]}, True),
    (
        "multi plain negated",
        _one("StringNotEquals", "aws:TagKeys", "bob"),
        {"aws:TagKeys": ["x", "bob"]},
        False,
    ),
    # Combinations
    ("keys ANDed", {"StringEquals": {"a:x": "1", "a:y": "2"}}, {"a:x": "1", "a:y": "2"}, True),
    ("keys ANDed one missing", {"StringEquals": {"a:x": "1", "a:y": "2"}}, {"a:x": "1"}, False),
    (
        "operators ANDed",
        {"StringEquals": {"a:x": "1"}, "Bool": {"a:b": "true"}},
        {"a:x": "1", "a:b": "false"},
        False,
    ),
    (
        "operators ANDed pass",
        {"StringEquals": {"a:x": "1"}, "Bool": {"a:b": "true"}},
        {"a:x": "1", "a:b": "true"},
        True,
    ),
]


@pytest.mark.parametrize(("name", "condition", "context", "expected"), CASES, ids=[c[0] for c in CASES])
def test_condition_operators(name: str, condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(condition, context) is expected


VARIABLES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "var equals",
        _one("StringEquals", "aws:ResourceTag/owner", "${aws:username}"),
        {"aws:ResourceTag/owner": "bob", "aws:username": "bob"},
        True,
    ),
    (
        "var equals other",
        _one("StringEquals", "aws:ResourceTag/owner", "${aws:username}"),
        {"aws:ResourceTag/owner": "bob", "aws:username": "eve"},
        False,
    ),
    (
        "var absent matches nothing",
        _one("StringEquals", "aws:ResourceTag/owner", "${aws:username}"),
        {"aws:ResourceTag/owner": "bob"},
        False,
    ),
    (
        "var absent negated",
        _one("StringNotEquals", "aws:ResourceTag/owner", "${aws:username}"),
        {"aws:ResourceTag/owner": "bob"},
        True,
    ),
    (
        "var absent other value",
        _one("StringEquals", "s3:prefix", ["${aws:username}", "shared"]),
        {"s3:prefix": "shared"},
        True,
    ),
    (
        "var key case",
        _one("StringEquals", "s3:prefix", "${AWS:UserName}"),
        {"s3:prefix": "bob", "aws:username": "bob"},
        True,
    ),
    (
        "var default used",
        _one("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, 'company-wide'}"),
        {"s3:prefix": "company-wide"},
        True,
    ),
    (
        "var default ignored",
        _one("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, 'company-wide'}"),
        {"s3:prefix": "company-wide", "aws:PrincipalTag/team": "red"},
        False,
    ),
    (
        "var principal tag",
        _one("StringEquals", "aws:ResourceTag/team", "${aws:PrincipalTag/team}"),
        {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "red"},
        True,
    ),
    (
        "var in like",
        _one("StringLike", "s3:prefix", "home/${aws:username}/*"),
        {"s3:prefix": "home/bob/docs", "aws:username": "bob"},
        True,
    ),
    (
        "var in like other",
        _one("StringLike", "s3:prefix", "home/${aws:username}/*"),
        {"s3:prefix": "home/eve/docs", "aws:username": "bob"},
        False,
    ),
    (
        "var value is literal",
        _one("StringLike", "s3:prefix", "${aws:username}"),
        {"s3:prefix": "anything", "aws:username": "*"},
        False,
    ),
    (
        "var multivalued key",
        _one("StringEquals", "s3:prefix", "${aws:TagKeys}"),
        {"s3:prefix": "a", "aws:TagKeys": ["a"]},
        False,
    ),
    (
        "var in arn",
        _one("ArnLike", "aws:SourceArn", "arn:aws:iam::*:user/${aws:username}"),
        {"aws:SourceArn": "arn:aws:iam::1:user/bob", "aws:username": "bob"},
        True,
    ),
    ("escape star equals", _one("StringEquals", "s3:prefix", "a${*}b"), {"s3:prefix": "a*b"}, True),
    ("escape star not wildcard", _one("StringLike", "s3:prefix", "a${*}b"), {"s3:prefix": "axb"}, False),
    ("escape star like literal", _one("StringLike", "s3:prefix", "a${*}b*"), {"s3:prefix": "a*bcd"}, True),
    ("escape question", _one("StringLike", "s3:prefix", "why${?}"), {"s3:prefix": "why?"}, True),
    ("escape question literal", _one("StringLike", "s3:prefix", "why${?}"), {"s3:prefix": "whyX"}, False),
    ("escape dollar", _one("StringEquals", "s3:prefix", "${$}5"), {"s3:prefix": "$5"}, True),
    (
        "no variables in numeric",
        _one("NumericEquals", "s3:max-keys", "${s3:limit}"),
        {"s3:max-keys": "5", "s3:limit": "5"},
        False,
    ),
]


@pytest.mark.parametrize(("name", "condition", "context", "expected"), VARIABLES, ids=[v[0] for v in VARIABLES])
def test_condition_variables(name: str, condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(condition, context) is expected


def test_legacy_version_treats_variables_as_text() -> None:
    condition = _one("StringEquals", "s3:prefix", "${aws:username}")
    assert holds(condition, {"s3:prefix": "${aws:username}", "aws:username": "bob"}, variables=False)
    assert not holds(condition, {"s3:prefix": "bob", "aws:username": "bob"}, variables=False)


def test_missing_keys_are_reported() -> None:
    block = condition_block(
        {
            "StringEquals": {"aws:ResourceTag/owner": "${aws:username}"},
            "Bool": {"aws:SecureTransport": "true"},
        },
        variables=True,
    )
    assert block is not None
    missing = set(block.missing(ConditionContext({"aws:SecureTransport": "true"})))
    assert missing == {"aws:ResourceTag/owner", "aws:username"}


def test_default_means_not_missing() -> None:
    block = condition_block(_one("StringEquals", "s3:prefix", "${aws:userid, 'anonymous'}"), variables=True)
    assert block is not None
    assert list(block.missing(ConditionContext({"s3:prefix": "x"}))) == []
