"""DeepLens-style device registrations: one row per registered device, naming what its registration created
(IoT thing, certificate, IoT policy, role alias, SageMaker device) so deregistration removes exactly that.

The device's private key waits here, sealed by the SecretBox, until its one download; the download erases it
in the same statement that records the download (`one_download` keeps the two exclusive). A name is unique
per (account, region) and a certificate backs at most one registration: the database decides both, so two
concurrent registrations of one name cannot both succeed.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, Table, Text, UniqueConstraint

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

deeplens_devices = Table(
    "deeplens_devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("arn", Text, nullable=False),
    Column("thing_name", Text, nullable=False),
    Column("certificate_id", Text, nullable=False),
    Column("certificate_arn", Text, nullable=False),
    Column("policy_name", Text, nullable=False),
    Column("role_alias", Text, nullable=False),
    Column("role_alias_arn", Text, nullable=False),
    Column("fleet_name", Text, nullable=False),
    Column("sagemaker_device_name", Text, nullable=False),
    # The five roles of the wizard, by kind (ServiceRole, GreengrassRole, ...) -> role ARN.
    Column("roles", JsonText, nullable=False),
    Column("private_key_ciphertext", Text, nullable=True),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("bundle_downloaded_at", UtcDateTime, nullable=True),
    Column("first_authenticated_at", UtcDateTime, nullable=True),
    UniqueConstraint("account_id", "region", "name"),
    UniqueConstraint("certificate_id"),
    CheckConstraint("private_key_ciphertext IS NULL OR bundle_downloaded_at IS NULL", name="one_download"),
    sqlite_autoincrement=True,
)
