"""Grow an edgeward PostgreSQL database to N devices: N IoT things, N certificates (ACTIVE, attached to their
thing) and N SageMaker devices in one fleet, written with set-based SQL (generate_series), not through the API.

    .venv/bin/python bench/seed_rows.py postgresql+psycopg://postgres@127.0.0.1:5432/DB --devices 100000

The database must belong to an installation (`edgeward serve` ran on it once). Rows are named `seed-...-<i>`;
running again with a larger N adds rows N_old..N-1, so a benchmark can grow one database step by step. The
certificates are placeholders (no real PEM, ids derived from `i`): they make the tables and indexes as big as
real ones, and no request of the benchmark reads them. Statistics are refreshed (ANALYZE) at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, create_engine, func, insert, select, text

from edgeward.core import arn as arns
from edgeward.storage.tables import accounts
from edgeward.storage.tables_sagemaker import sagemaker_device_fleets

FLEET = "seed-fleet"
CHUNK = 100_000  # rows per statement (one transaction each): progress and bounded transactions

# Each statement inserts rows lo..hi-1 of one kind; :account, :region, :fleet_id, :now and the ARN prefixes bound.
_THINGS = """
INSERT INTO iot_things (account_id, name, thing_id, arn, type_id, version, created_at, tags)
SELECT :account, 'seed-thing-' || i, md5('thing' || i)::uuid::text,
       :thing_arn || 'seed-thing-' || i, NULL, 1, :now, '{}'
FROM generate_series(:lo, :hi - 1) AS i
"""
_CERTIFICATES = """
INSERT INTO iot_certificates (certificate_id, account_id, region, arn, status, source, certificate_pem,
    ca_certificate_id, mode, not_before, not_after, created_at, last_modified_at, customer_version, generation_id)
SELECT encode(sha256(('seed-cert-' || i)::bytea), 'hex'), :account, :region,
       :cert_arn || encode(sha256(('seed-cert-' || i)::bytea), 'hex'),
       'ACTIVE', 'EDGEWARD_CA', '-----BEGIN CERTIFICATE-----\nseed\n-----END CERTIFICATE-----\n', NULL, 'DEFAULT',
       :now, :now + interval '365 days', :now, :now, 1, md5('generation' || i)::uuid::text
FROM generate_series(:lo, :hi - 1) AS i
"""
_PRINCIPALS = """
INSERT INTO iot_thing_principals (thing_id, principal, account_id, principal_type, attached_at)
SELECT t.id, :cert_arn || encode(sha256(('seed-cert-' || i)::bytea), 'hex'),
       :account, 'NON_EXCLUSIVE_THING', :now
FROM generate_series(:lo, :hi - 1) AS i JOIN iot_things t ON t.account_id = :account AND t.name = 'seed-thing-' || i
"""
_DEVICES = """
INSERT INTO sagemaker_devices (account_id, region, fleet_id, name, description, iot_thing_name, tags, registered_at)
SELECT :account, :region, :fleet_id, 'seed-device-' || i, NULL, 'seed-thing-' || i, '{}', :now
FROM generate_series(:lo, :hi - 1) AS i
"""


def seeded_count(conn: Connection, account: str) -> int:
    """How many seed devices the database has already (they are added in order, all kinds together)."""
    found = conn.execute(
        text("SELECT count(*) FROM sagemaker_devices WHERE account_id = :account AND name LIKE 'seed-device-%'"),
        {"account": account},
    ).scalar_one()
    return int(found)


def seed_fleet(conn: Connection, account: str, region: str, now: datetime) -> int:
    fleets = sagemaker_device_fleets.c
    where = (fleets.account_id == account) & (fleets.region == region) & (fleets.name == FLEET)
    existing = conn.execute(select(fleets.id).where(where)).scalar_one_or_none()
    if existing is not None:
        return int(existing)
    values = {
        "account_id": account,
        "region": region,
        "name": FLEET,
        "arn": arns.build("sagemaker", region, account, f"device-fleet/{FLEET}"),
        "output_config": {"S3OutputLocation": "s3://seed-bucket/out"},
        "tags": {},
        "created_at": now,
        "last_modified_at": now,
    }
    return int(conn.execute(insert(sagemaker_device_fleets).values(values).returning(fleets.id)).scalar_one())


def grow(database_url: str, devices: int, region: str = "us-east-1", quiet: bool = False) -> dict[str, float]:
    """Add seed rows until the database holds `devices` of each kind; returns counts and seconds taken."""
    engine = create_engine(database_url)
    started = time.monotonic()
    try:
        with engine.begin() as conn:
            if engine.dialect.name != "postgresql":
                raise SystemExit("seed_rows: PostgreSQL only (it generates rows with generate_series)")
            account = conn.execute(select(func.min(accounts.c.account_id))).scalar_one()
            if account is None:
                raise SystemExit("seed_rows: no account yet: start `edgeward serve` on this database once")
            now = datetime.now(UTC)
            fleet_id = seed_fleet(conn, account, region, now)
            before = seeded_count(conn, account)
        for lo in range(before, devices, CHUNK):
            hi = min(devices, lo + CHUNK)
            params = {"account": account, "region": region, "fleet_id": fleet_id, "now": now, "lo": lo, "hi": hi}
            params["thing_arn"] = arns.build("iot", region, account, "thing/")
            params["cert_arn"] = arns.build("iot", region, account, "cert/")
            with engine.begin() as conn:
                for statement in (_THINGS, _CERTIFICATES, _PRINCIPALS, _DEVICES):
                    conn.execute(text(statement), params)
            if not quiet:
                print(f"  seeded {hi:,} / {devices:,} devices ({time.monotonic() - started:.0f} s)", flush=True)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return {"devices_before": before, "devices": max(before, devices), "seconds": time.monotonic() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", help="postgresql+psycopg://... of an edgeward installation")
    parser.add_argument("--devices", type=int, required=True, help="grow to this many devices (and things, certs)")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    print(json.dumps(grow(args.database_url, args.devices, args.region)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
