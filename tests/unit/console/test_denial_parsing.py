"""Reading AWS's AccessDenied messages back into (principal, action, resource)."""

from __future__ import annotations

from edgeward.console.pages.denied import Question, parse_denial


def test_plain_denial() -> None:
    message = (
        "An error occurred (AccessDenied) when calling the GetUser operation: User: "
        "arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:GetUser on resource: "
        "arn:aws:iam::123456789012:user/alice"
    )
    assert parse_denial(message) == Question(
        "arn:aws:iam::123456789012:user/bob", "iam:GetUser", "arn:aws:iam::123456789012:user/alice"
    )


def test_denial_with_reason_and_session_principal() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/Edge/dev-1 is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"
    )
    parsed = parse_denial(message)
    assert parsed is not None
    assert parsed.resource == "arn:aws:s3:::bucket/key"
    assert parsed.action == "s3:PutObject"


def test_not_a_denial() -> None:
    assert parse_denial("The security token included in the request is invalid.") is None
