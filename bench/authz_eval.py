"""One authorization decision, edgeward's policy engine next to moto's evaluator, on the same 10 policies.

    python bench/authz_eval.py [--iterations 20000] [--repeat 3] [--no-moto] [--moto-venv PATH]

The principal is `mateojackson`, a DeepLens/Edge Manager operator with 10 attached managed policies (41
statements: wildcards in actions and resources, policy variables, and conditions — StringEquals, StringLike,
IpAddress, NotIpAddress, Bool, DateGreaterThan, ForAllValues, ...). The policies are compiled once (as the
authorizer's cache keeps them); each iteration then decides one request (allowed, implicitly denied,
explicitly denied):

- edgeward: `evaluate(Request(caller, action, resource, context), policies)` — the request's condition keys
  are folded once per request inside `Request`, as in the server;
- moto (`moto.iam.access_control`): what `IAMRequestBase.check_action_permitted` does per request, with the
  `IAMPolicy` objects built once (moto itself re-parses the JSON of every policy on every request: shown too).

Each decision is timed on its own with the process CPU clock (`time.process_time_ns`, not wall time); the cost
of reading the clock is measured and subtracted. Each request is measured `--repeat` times and the run with the
lowest median is kept (load from other processes only adds time). Printed: median and p99 in µs, and the ratio
moto ÷ edgeward.

moto is not a project dependency: on first use the script creates a venv for it outside the repository
(`~/.cache/edgeward/bench-moto`, or `--moto-venv` / `$EDGEWARD_BENCH_MOTO_VENV`) and runs `pip install moto`
there; the moto half runs in that venv's Python (this same file, `--moto-child`). Target: edgeward's median
≤ 20 µs.

Moto checks fewer rules: no policy variables, of the condition operators only StringEquals (the others always
hold), and a statement whose action matches but whose condition fails counts as a Deny. So a `Deny` with a
condition on an action a request uses makes moto deny it whatever the condition says; the three requests are
chosen so both engines answer alike (the decisions column shows it), otherwise moto would stop early.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
USER_NAME = "mateojackson"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/{USER_NAME}"
USER_ID = "AIDAJQABLZS4A3QDU576Q"
FLEET = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/lab-fleet"


def _stmt(effect: str, action: Any, resource: Any, condition: dict[str, Any] | None = None, sid: str = "") -> Any:
    body: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": resource}
    if sid:
        body["Sid"] = sid
    if condition:
        body["Condition"] = condition
    return body


def _doc(*statements: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# name -> document: what an operator of an edge fleet typically has attached.
POLICIES: dict[str, str] = {
    "EdgeFleetOperator": _doc(
        _stmt("Allow", ["sagemaker:Describe*", "sagemaker:List*"], f"arn:aws:sagemaker:*:{ACCOUNT}:device-fleet/*"),
        _stmt(
            "Allow",
            ["sagemaker:RegisterDevices", "sagemaker:DeregisterDevices", "sagemaker:UpdateDevices"],
            f"arn:aws:sagemaker:*:{ACCOUNT}:device-fleet/lab-*",
            {"StringEquals": {"aws:PrincipalTag/team": "edge"}},
            "ManageLabDevices",
        ),
        _stmt("Allow", "sagemaker:*EdgePackagingJob*", "*", {"Bool": {"aws:SecureTransport": "true"}}),
        _stmt("Deny", "sagemaker:DeleteDeviceFleet", "*", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
    ),
    "EdgeDataAccess": _doc(
        _stmt("Allow", "s3:ListAllMyBuckets", "*"),
        _stmt("Allow", "s3:ListBucket", "arn:aws:s3:::edge-data", {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}),
        _stmt("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::edge-data/${aws:username}/*", sid="OwnData"),
        _stmt("Allow", "s3:GetObject", "arn:aws:s3:::edge-shared/*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        _stmt("Deny", "s3:*", "arn:aws:s3:::edge-data/*", {"Bool": {"aws:SecureTransport": "false"}}),
        _stmt("Deny", ["s3:DeleteBucket", "s3:PutBucketPolicy"], "*", sid="NoBucketChanges"),
    ),
    "ModelArtifacts": _doc(
        _stmt("Allow", ["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::*sagemaker*/models/*"),
        _stmt("Allow", ["s3:PutObject"], "arn:aws:s3:::*sagemaker*/packaged/*"),
        _stmt("Allow", "s3:GetBucketLocation", "arn:aws:s3:::*sagemaker*"),
        _stmt("Allow", "sagemaker:*Model*", f"arn:aws:sagemaker:*:{ACCOUNT}:model/*"),
        _stmt("Allow", "sagemaker:CreateCompilationJob", "*", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
    ),
    "IotThingAdmin": _doc(
        _stmt("Allow", ["iot:DescribeThing", "iot:ListThings", "iot:ListThingGroups"], "*"),
        _stmt("Allow", ["iot:CreateThing", "iot:UpdateThing"], f"arn:aws:iot:*:{ACCOUNT}:thing/lab-*"),
        _stmt("Allow", "iot:*Certificate*", f"arn:aws:iot:*:{ACCOUNT}:cert/*"),
        _stmt("Allow", "iot:DescribeEndpoint", "*"),
        _stmt("Deny", "iot:DeleteThing", "*", {"StringNotEquals": {"aws:PrincipalTag/team": "edge-admins"}}),
    ),
    "RoleAliases": _doc(
        _stmt(
            "Allow",
            ["iot:CreateRoleAlias", "iot:DescribeRoleAlias", "iot:UpdateRoleAlias", "iot:TagResource"],
            "arn:aws:iot:*:*:rolealias/SageMakerEdge*",
        ),
        _stmt("Allow", "iot:ListRoleAliases", "*"),
        _stmt(
            "Allow",
            ["iam:GetRole", "iam:PassRole"],
            ["arn:aws:iam::*:role/*SageMaker*", "arn:aws:iam::*:role/*Sagemaker*", "arn:aws:iam::*:role/*sagemaker*"],
            {"StringEqualsIfExists": {"iam:PassedToService": ["iot.amazonaws.com", "credentials.iot.amazonaws.com"]}},
        ),
    ),
    "SelfServiceCredentials": _doc(
        _stmt("Allow", ["iam:GetUser", "iam:ChangePassword"], "arn:aws:iam::*:user/${aws:username}"),
        _stmt("Allow", "iam:*AccessKey*", "arn:aws:iam::*:user/${aws:username}", sid="OwnKeys"),
        _stmt("Allow", "iam:*LoginProfile", "arn:aws:iam::*:user/${aws:username}"),
        _stmt("Allow", "iam:*MFADevice", ["arn:aws:iam::*:mfa/${aws:username}", "arn:aws:iam::*:user/${aws:username}"]),
        _stmt("Allow", "iam:GetAccountPasswordPolicy", "*"),
        _stmt(
            "Allow",
            "iam:TagUser",
            "arn:aws:iam::*:user/${aws:username}",
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}},
        ),
    ),
    "ReadOnlyIam": _doc(
        _stmt("Allow", ["iam:List*", "iam:Get*Policy*"], "*"),
        _stmt("Allow", ["iam:GetRole", "iam:GetGroup"], "*"),
        _stmt("Deny", ["iam:Create*", "iam:Delete*", "iam:Put*", "iam:Attach*"], "*", sid="NoIamWrites"),
    ),
    "BusinessHours": _doc(
        _stmt(
            "Deny",
            ["sagemaker:Create*", "sagemaker:Delete*", "iot:Create*", "iot:Delete*"],
            "*",
            {"DateGreaterThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"}},
        ),
        _stmt("Allow", "cloudwatch:PutMetricData", "*", {"StringEquals": {"cloudwatch:namespace": "EdgeFleet"}}),
        _stmt("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:*:{ACCOUNT}:log-group:/edge/*"),
    ),
    "NetworkGuard": _doc(
        _stmt(
            "Deny",
            ["iam:*", "sts:AssumeRole", "sagemaker:Delete*"],
            "*",
            {
                "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                "Bool": {"aws:ViaAWSService": "false"},
            },
            "AdminOnlyFromSiteNetworks",
        ),
        _stmt("Allow", "sts:GetCallerIdentity", "*"),
    ),
    "DeviceTelemetry": _doc(
        _stmt("Allow", ["sagemaker:SendHeartbeat", "sagemaker:GetDeviceRegistration"], f"{FLEET}*"),
        _stmt("Allow", "sagemaker:GetDeployments", "*", {"StringLike": {"aws:userid": "AIDA*"}}),
        _stmt("Allow", "iot:Publish", f"arn:aws:iot:*:{ACCOUNT}:topic/edge/${{aws:username}}/*"),
        _stmt("Allow", "iot:Connect", f"arn:aws:iot:*:{ACCOUNT}:client/${{aws:username}}-*"),
    ),
}

CONTEXT: dict[str, Any] = {
    "aws:username": USER_NAME,
    "aws:userid": USER_ID,
    "aws:PrincipalAccount": ACCOUNT,
    "aws:PrincipalArn": USER_ARN,
    "aws:PrincipalType": "User",
    "aws:PrincipalTag/team": "edge",
    "aws:SecureTransport": "true",
    "aws:SourceIp": "10.1.2.3",
    "aws:ViaAWSService": "false",
    "aws:MultiFactorAuthPresent": "false",
    "aws:RequestedRegion": "us-east-1",
    "aws:CurrentTime": "2026-11-21T12:00:00Z",
    "aws:EpochTime": "1795262400",
}

# name -> (action, resource, extra context)
REQUESTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "allowed": ("sagemaker:RegisterDevices", FLEET, {}),
    "denied (implicit)": ("iot:AttachPolicy", f"arn:aws:iot:us-east-1:{ACCOUNT}:policy/edge-device", {}),
    "denied (explicit)": ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/SageMakerEdgeRole", {}),
}


# -- timing --------------------------------------------------------------------------------------------


def _clock_cost(samples: int = 20_000) -> int:
    clock = time.process_time_ns
    costs = []
    for _ in range(samples):
        start = clock()
        costs.append(clock() - start)
    return int(statistics.median(costs))


def measure(step: Callable[[], object], iterations: int, repeat: int = 1) -> dict[str, float]:
    """Median and p99 of one call, in µs of process CPU time, the clock's own cost subtracted; of `repeat`
    runs, the one with the lowest median (other load on the machine only ever adds time)."""
    runs = [_measure_once(step, iterations) for _ in range(max(1, repeat))]
    return min(runs, key=lambda run: run["median_us"])


def _measure_once(step: Callable[[], object], iterations: int) -> dict[str, float]:
    for _ in range(min(2_000, iterations)):
        step()
    overhead = _clock_cost()
    clock = time.process_time_ns
    samples = []
    gc.collect()
    for _ in range(iterations):
        start = clock()
        step()
        samples.append(clock() - start)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return {
        "median_us": max(0, statistics.median(samples) - overhead) / 1000,
        "p99_us": max(0, p99 - overhead) / 1000,
        "clock_overhead_us": overhead / 1000,
    }


# -- edgeward ------------------------------------------------------------------------------------------


def edgeward_results(iterations: int, repeat: int) -> dict[str, dict[str, Any]]:
    from edgeward.policy import Caller, CallerKind, Request, evaluate, parse_policy

    caller = Caller(CallerKind.USER, USER_ARN, ACCOUNT, unique_id=USER_ID)
    policies = [
        parse_policy(text).with_source(f"arn:aws:iam::{ACCOUNT}:policy/{name}", "user-managed")
        for name, text in POLICIES.items()
    ]
    results: dict[str, dict[str, Any]] = {}
    for label, (action, resource, extra) in REQUESTS.items():
        context = {**CONTEXT, **extra}

        def step(action: str = action, resource: str = resource, context: dict[str, Any] = context) -> Any:
            return evaluate(Request(caller, action, resource, context), policies)

        decision = step()
        results[label] = {**measure(step, iterations, repeat), "decision": decision.eval_decision}
    return results


# -- moto (runs in moto's venv: no edgeward imports here) ---------------------------------------------


def moto_results(iterations: int, repeat: int) -> dict[str, dict[str, Any]]:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    documents = list(POLICIES.values())
    prebuilt = [IAMPolicy(text) for text in documents]

    def decide(policies: list[Any], action: str, resource: str, context: dict[str, str]) -> str:
        # IAMRequestBase.check_action_permitted, without the exceptions it raises to say "denied".
        permitted = False
        for policy in policies:
            result = policy.is_action_permitted(action, resource, None, context)
            if result == PermissionResult.DENIED:
                return "explicitDeny"
            if result == PermissionResult.PERMITTED:
                permitted = True
        return "allowed" if permitted else "implicitDeny"

    results: dict[str, dict[str, Any]] = {}
    for label, (action, resource, extra) in REQUESTS.items():
        context = {**CONTEXT, **extra}

        def cached(action: str = action, resource: str = resource, context: dict[str, str] = context) -> str:
            return decide(prebuilt, action, resource, context)

        def per_request(action: str = action, resource: str = resource, context: dict[str, str] = context) -> str:
            return decide([IAMPolicy(text) for text in documents], action, resource, context)

        results[label] = {**measure(cached, iterations, repeat), "decision": cached()}
        results[label]["as_moto_runs_us"] = measure(per_request, max(1_000, iterations // 10))["median_us"]
    return results


def default_moto_venv() -> Path:
    return Path(os.environ.get("EDGEWARD_BENCH_MOTO_VENV", Path.home() / ".cache" / "edgeward" / "bench-moto"))


def ensure_moto_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import moto.iam.access_control"]).returncode == 0:
        return python
    print(f"installing moto into {venv} (once) ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "moto"], check=True)
    return python


def run_moto_child(python: Path, iterations: int, repeat: int) -> tuple[dict[str, dict[str, Any]], str]:
    args = [str(python), __file__, "--moto-child", "--iterations", str(iterations), "--repeat", str(repeat)]
    output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    payload = json.loads(output)
    return payload["results"], payload["version"]


# -- report --------------------------------------------------------------------------------------------


def report(ours: dict[str, dict[str, Any]], moto: dict[str, dict[str, Any]] | None, moto_version: str) -> None:
    statements = sum(len(json.loads(text)["Statement"]) for text in POLICIES.values())
    print(
        f"one authorization decision: 1 user, {len(POLICIES)} managed policies, {statements} statements, "
        f"{len(CONTEXT)} condition keys; process CPU time per decision (python {platform.python_version()})"
    )
    head = f"{'request':<19} {'edgeward median':>15} {'p99':>8}"
    if moto is not None:
        head += f"   {'moto ' + moto_version + ' median':>19} {'p99':>8} {'ratio':>7}   decisions (edgeward / moto)"
    print(head)
    for label, mine in ours.items():
        line = f"{label:<19} {mine['median_us']:>12.2f} µs {mine['p99_us']:>5.1f} µs"
        if moto is not None:
            theirs = moto[label]
            ratio = theirs["median_us"] / mine["median_us"] if mine["median_us"] else float("inf")
            line += (
                f"   {theirs['median_us']:>16.2f} µs {theirs['p99_us']:>5.1f} µs {ratio:>6.1f}x"
                f"   {mine['decision']} / {theirs['decision']}"
            )
        print(line)
    worst = max(r["median_us"] for r in ours.values())
    print(f"target: edgeward median ≤ 20 µs — {'met' if worst <= 20 else 'NOT met'} (worst median {worst:.2f} µs)")
    if moto is not None:
        as_runs = ", ".join(f"{label} {r['as_moto_runs_us']:.1f} µs" for label, r in moto.items())
        print(f"moto as it runs per request (re-parsing the 10 policies' JSON each time): {as_runs}")
    clock = next(iter(ours.values()))["clock_overhead_us"]
    print(f"(the CPU clock's own cost, {clock:.2f} µs per reading, is subtracted)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=20_000, help="timed decisions per request (20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per request; the lowest median counts (3)")
    parser.add_argument("--no-moto", action="store_true", help="edgeward only")
    parser.add_argument("--moto-venv", type=Path, default=None, help="venv with moto (created if missing)")
    parser.add_argument("--moto-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.moto_child:
        from importlib.metadata import version

        print(json.dumps({"results": moto_results(args.iterations, args.repeat), "version": version("moto")}))
        return 0
    ours = edgeward_results(args.iterations, args.repeat)
    moto, moto_version = None, ""
    if not args.no_moto:
        python = ensure_moto_venv(args.moto_venv or default_moto_venv())
        moto, moto_version = run_moto_child(python, args.iterations, args.repeat)
    report(ours, moto, moto_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
