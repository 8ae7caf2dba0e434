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
# The machine may point TF_CLI_CONFIG_FILE at a file that does not exist: use ours.
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc

.PHONY: help install synth test lint unit validate synth-profiles clean
help:
	@echo "make synth   install what is missing, then cdktf synth for ENVIRONMENT_SUFFIX (default dev)"
	@echo "make test    install what is missing, then lint, unit tests, terraform validate"
	@echo "make lint | unit | validate | clean"

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

lint: $(VENV)/.synced
	$(PY) -m pylint main.py lib tests

unit: $(VENV)/.synced
	$(PY) -m pytest tests/unit --cov=lib --cov=main --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=95

# Synthesizes the reference profiles with main.py (one process each) for validate.
synth-profiles: $(VENV)/.synced
	@for env in $(PROFILES); do \
	  ENVIRONMENT_SUFFIX=$$env CDKTF_OUTDIR=$(BUILD)/synth/$$env $(PY) main.py || exit 1; \
	done

validate: synth-profiles $(TF_CLI_CONFIG_FILE)
	scripts/validate.sh $(foreach env,$(PROFILES),$(BUILD)/synth/$(env)/stacks/TapStack$(env))

test: install
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory validate

clean:
	rm -rf cdktf.out $(BUILD) .pytest_cache .coverage htmlcov cfn-outputs
