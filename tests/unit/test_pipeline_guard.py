"""The dispatcher fails closed: a handler that returns without an authorization check is refused, and no
request can switch that check off by sending the pipeline's own marker for prepared (already authorized)
work among its parameters."""

from __future__ import annotations

from typing import Any

import pytest

from edgeward.server.pipeline import Pipeline
from edgeward.services import registry
from edgeward.services.context import PREPARED, Context
from tests.unit.test_writer import Signer, service

__all__ = ["service"]  # the fixture, shared with the writer's tests


def careless(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A handler that forgot `ctx.authorize`."""
    return {"Users": [], "IsTruncated": False}


@pytest.mark.parametrize("injected", [{}, {PREPARED: "1"}])
def test_a_handler_without_authorization_is_refused(
    service: tuple[Pipeline, Signer], monkeypatch: pytest.MonkeyPatch, injected: dict[str, str]
) -> None:
    pipeline, signer = service
    monkeypatch.setitem(registry.handlers(), ("iam", "ListUsers"), careless)
    response = pipeline.handle(signer.iam("ListUsers", **injected))
    assert response.status == 403
    assert b"made no authorization check" in response.body
