"""Three nodes, one PostgreSQL: limits hold across nodes under concurrency, and what one node changes governs
the others within a second (certificate status at the credentials provider, IAM policies at every API).
"""

from __future__ import annotations

import functools
import http.client
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.e2e.mtls import Device, Provider, client_context, make_device
from tests.multinode.cluster import Cluster, Node, within

RACERS_PER_NODE = 3
RACED_USERS = 12


def create_key_outcome(node: Node, user: str, barrier: threading.Barrier) -> str:
    iam = node.client("iam")
    barrier.wait()
    try:
        iam.create_access_key(UserName=user)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "created"


def test_nodes_racing_create_access_key_never_make_a_third_key(cluster: Cluster) -> None:
    racers = [node for node in cluster.nodes[:2] for _ in range(RACERS_PER_NODE)]
    users = [f"racer-{index}" for index in range(RACED_USERS)]
    for user in users:
        cluster.client("iam").create_user(UserName=user)
    outcomes: Counter[str] = Counter()
    with ThreadPoolExecutor(len(racers)) as pool:
        for user in users:
            barrier = threading.Barrier(len(racers))
            per_user = Counter(pool.map(lambda node: create_key_outcome(node, user, barrier), racers))  # noqa: B023
            assert per_user == {"created": 2, "LimitExceeded": len(racers) - 2}, (user, per_user)
            outcomes += per_user
    for user in users:
        assert len(cluster.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]) == 2
    # A freed slot is taken by exactly one of the racers again.
    user = users[0]
    first = cluster.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"][0]["AccessKeyId"]
    cluster.client("iam").delete_access_key(UserName=user, AccessKeyId=first)
    barrier = threading.Barrier(len(racers))
    with ThreadPoolExecutor(len(racers)) as pool:
        again = Counter(pool.map(lambda node: create_key_outcome(node, user, barrier), racers))
    assert again == {"created": 1, "LimitExceeded": len(racers) - 1}


class ProviderClient:
    """A device's keep-alive connection to one node's credentials provider (reconnects when the node closes it)."""

    def __init__(self, node: Node, device: Device) -> None:
        self.node = node
        self.device = device
        self.context: ssl.SSLContext = client_context(
            Provider(node.server, node.mtls_port), device.cert_file, device.key_file
        )
        self.connection: http.client.HTTPSConnection | None = None

    def status(self) -> int:
        for _ in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPSConnection(
                    "127.0.0.1", self.node.mtls_port, context=self.context, timeout=15
                )
            try:
                self.connection.request("GET", f"/role-aliases/{self.device.alias}/credentials")
                response = self.connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                continue
            if response.status == 200:
                assert json.loads(body)["credentials"]["accessKeyId"].startswith("ASIA")
            return response.status
        raise AssertionError(f"credentials provider of {self.node.server.endpoint} unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def has_status(client: ProviderClient, expected: int) -> bool:
    return client.status() == expected


def test_certificate_status_set_through_one_node_governs_the_others_within_a_second(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = cluster.nodes
    device = make_device(Provider(a.server, a.mtls_port), tmp_path)
    on_b, on_c = ProviderClient(b, device), ProviderClient(c, device)
    try:
        assert on_b.status() == 200 and on_c.status() == 200
        delays = {}
        for via, status, expected in [(a, "INACTIVE", 403), (c, "ACTIVE", 200), (a, "REVOKED", 403)]:
            via.client("iot").update_certificate(certificateId=device.certificate_id, newStatus=status)
            replied = time.monotonic()
            delays[status] = [
                within(1.0, functools.partial(has_status, client, expected), since=replied) for client in (on_b, on_c)
            ]
        print(f"certificate status seen by the other nodes after (s): {delays}")
    finally:
        on_b.close()
        on_c.close()


def allowed_is(iot: Any, expected: bool) -> bool:
    """Whether `iot:ListThings` is allowed for the client's user is `expected` (denied: AccessDenied, nothing else)."""
    try:
        iot.list_things()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException", exc.response
        return expected is False
    return expected is True


USER = "governed"


def statement(effect: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": "iot:ListThings", "Resource": "*"}]}
    )


def test_policy_change_through_one_node_governs_the_others_within_a_second(cluster: Cluster) -> None:
    a, b, c = cluster.nodes
    a.client("iam").create_user(UserName=USER)
    key = a.client("iam").create_access_key(UserName=USER)["AccessKey"]
    keys = (key["AccessKeyId"], key["SecretAccessKey"])
    on_b, on_c = b.client("iot", *keys), c.client("iot", *keys)

    # Both nodes have evaluated (and cached) the user's policies before each change.
    assert allowed_is(on_b, False) and allowed_is(on_c, False)
    created = c.client("iam").create_policy(PolicyName="list-things", PolicyDocument=statement("Allow"))
    policy_arn = created["Policy"]["Arn"]
    iam_a, iam_c = a.client("iam"), c.client("iam")
    changes: list[tuple[str, bool, Callable[[], object]]] = [
        (
            "inline put",
            True,
            lambda: iam_a.put_user_policy(UserName=USER, PolicyName="p", PolicyDocument=statement("Allow")),
        ),
        ("inline delete", False, lambda: iam_a.delete_user_policy(UserName=USER, PolicyName="p")),
        ("managed attach", True, lambda: iam_c.attach_user_policy(UserName=USER, PolicyArn=policy_arn)),
        (
            "explicit deny",
            False,
            lambda: iam_a.put_user_policy(UserName=USER, PolicyName="d", PolicyDocument=statement("Deny")),
        ),
    ]
    delays = {}
    for name, expected, change in changes:
        change()
        replied = time.monotonic()
        delays[name] = [
            within(1.0, functools.partial(allowed_is, client, expected), since=replied) for client in (on_b, on_c)
        ]
    print(f"policy changes seen by the other nodes after (s): {delays}")
