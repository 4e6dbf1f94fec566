"""DescribeCertificate, ListCertificates, ListCertificatesByCA, UpdateCertificate, DeleteCertificate.

Status rules (AWS's): a REVOKED certificate stays revoked; the transfer states are not set through
UpdateCertificate; a certificate signed by a registered CA can be activated only while that CA is ACTIVE.
A certificate is deleted only when it is not ACTIVE and no thing is attached to it; attached IoT policies
block deletion too unless `forceDelete`, which detaches them.
"""

from __future__ import annotations

from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.certificates_common import (
    cert_arn,
    certificate_description,
    certificate_summary,
    own_certificate,
    page_output,
    page_request,
)
from edgeward.storage.repos import iot_ca_certificates as ca_repo
from edgeward.storage.repos import iot_certificates as cert_repo
from edgeward.storage.repos import iot_policies, iot_things
from edgeward.storage.repos.iot_certificates import CertificateRecord
from edgeward.storage.tables_iot_policies import MAX_POLICIES_PER_TARGET

SETTABLE_STATUSES = ("ACTIVE", "INACTIVE", "REVOKED")


def describe_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:DescribeCertificate", cert_arn(ctx, params["certificateId"]))
    return {"certificateDescription": certificate_description(own_certificate(ctx, params["certificateId"]))}


def list_certificates(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListCertificates", "*")
    after, size, ascending = page_request(params)
    records, next_position = cert_repo.list_certificates(
        ctx.conn, ctx.account, ctx.region, ascending=ascending, after=after, page_size=size
    )
    return page_output("certificates", [certificate_summary(r) for r in records], next_position)


def list_certificates_by_ca(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListCertificatesByCA", "*")
    after, size, ascending = page_request(params)
    records, next_position = cert_repo.list_certificates(
        ctx.conn,
        ctx.account,
        ctx.region,
        ca_certificate_id=params["caCertificateId"],
        ascending=ascending,
        after=after,
        page_size=size,
    )
    return page_output("certificates", [certificate_summary(r) for r in records], next_position)


def update_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:UpdateCertificate", cert_arn(ctx, params["certificateId"]))
    record = own_certificate(ctx, params["certificateId"], lock=True)
    new_status = params["newStatus"]
    if new_status not in SETTABLE_STATUSES:
        raise errors.invalid_request(
            f"Invalid newStatus {new_status}: UpdateCertificate sets ACTIVE, INACTIVE or REVOKED only."
        )
    if record.status == "REVOKED" and new_status != "REVOKED":
        raise errors.certificate_state(
            f"Certificate {record.certificate_id} is REVOKED: a revoked certificate cannot be set {new_status}."
        )
    if record.status == "PENDING_TRANSFER":
        raise errors.certificate_state(f"Certificate {record.certificate_id} is pending transfer.")
    if new_status == "ACTIVE":
        _require_active_ca(ctx, record)
    if new_status != record.status:
        cert_repo.set_certificate_status(ctx.conn, record, new_status, clock.now())
    return {}


def delete_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:DeleteCertificate", cert_arn(ctx, params["certificateId"]))
    # The row lock makes a concurrent attach (which reads the certificate) wait for this decision.
    record = own_certificate(ctx, params["certificateId"], lock=True)
    if record.status == "ACTIVE":
        raise errors.certificate_state(
            f"Certificate must be deactivated (not ACTIVE) before deletion. Id: {record.certificate_id}"
        )
    if iot_things.principal_thing_count(ctx.conn, ctx.account, record.arn):
        raise errors.delete_conflict(f"Things must be detached before deletion (arn: {record.arn})")
    if iot_policies.target_policy_count(ctx.conn, ctx.account, record.arn):
        if not params.get("forceDelete"):
            raise errors.delete_conflict(f"Certificate policies must be detached before deletion (arn: {record.arn})")
        _detach_all_policies(ctx, record)
    cert_repo.delete_certificate(ctx.conn, record.certificate_id)
    return {}


def _detach_all_policies(ctx: Context, record: CertificateRecord) -> None:
    attached = iot_policies.policies_of_target(
        ctx.conn, ctx.account, record.arn, after=None, limit=MAX_POLICIES_PER_TARGET
    )
    for policy in attached:
        iot_policies.detach(ctx.conn, policy, record.arn)


def _require_active_ca(ctx: Context, record: CertificateRecord) -> None:
    if record.ca_certificate_id is None:
        return
    ca = ca_repo.get_ca_certificate(ctx.conn, record.ca_certificate_id)
    if ca is None or ca.status != "ACTIVE":
        raise errors.certificate_state(
            f"The CA certificate {record.ca_certificate_id} that signed certificate {record.certificate_id} "
            "is not ACTIVE (or no longer registered): the certificate cannot be activated."
        )


OPERATIONS = {
    "DescribeCertificate": describe_certificate,
    "ListCertificates": list_certificates,
    "ListCertificatesByCA": list_certificates_by_ca,
    "UpdateCertificate": update_certificate,
    "DeleteCertificate": delete_certificate,
}
