# trailops.cloudtrail: everything from a fresh clone with python3, make and git.
#   make demo   the console's quick trail on a local AWS, run twice (changed=0); then a fleet of accounts: baseline, drift, report, repair
#   make test   ansible-test sanity, unit tests, integration tests on a local AWS
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
# Where ansible finds this collection (a link to the work tree) and amazon.aws.
COLLECTIONS := $(BUILD)/collections
# ansible-test wants a real copy at .../ansible_collections/<namespace>/<name>,
# outside this git checkout (it would list the copy's files through our git).
TEST_ROOT := /tmp/trailops-ansible-test-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-10)
TEST_COPY := $(TEST_ROOT)/ansible_collections/trailops/cloudtrail
SITE = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# ansible-core 2.19 bootstraps pip 24.2 in its venvs through this cached script.
GET_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py
PYTEST_ARGS ?=
SANITY_ARGS ?=

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_LOCALHOST_WARNING := false
export ANSIBLE_INVENTORY_UNPARSED_WARNING := false
export PATH := $(BIN):$(PATH)

.PHONY: help setup collection demo ee test sanity units integration molecule changelog clean browser reliability bench lint matrix

help:
	@echo "make demo   the console's quick trail on a local AWS (twice: the second run changes nothing), then the fleet: baseline, drift report, repair, dashboard"
	@echo "make test   ansible-test sanity, unit tests and integration tests on a local AWS"
	@echo "make bench  measure ours against amazon.aws (+ the AWS CLI) and write docs/performance.md"
	@echo "make lint   ansible-lint --profile production, offline (part of make test)"
	@echo "make matrix sanity, units and the demo on ansible-core 2.17, 2.18 and 2.19 (not part of make test)"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed collection

# A link, so edits show at once; amazon.aws and community.aws (the roles' SNS
# topic and lifecycle modules) are linked from the ansible package.
collection: $(BIN)/.installed
	mkdir -p $(COLLECTIONS)/ansible_collections/trailops $(COLLECTIONS)/ansible_collections/amazon $(COLLECTIONS)/ansible_collections/community
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/trailops/cloudtrail
	ln -sfn $(SITE)/ansible_collections/amazon/aws $(COLLECTIONS)/ansible_collections/amazon/aws
	ln -sfn $(SITE)/ansible_collections/community/aws $(COLLECTIONS)/ansible_collections/community/aws

# One local AWS for the whole demo: the quick trail, the same again (changed=0),
# then the event history of what the two runs did; then the fleet: an
# organization of DEMO_ACCOUNTS accounts gets the baseline (twice: changed=0),
# one account drifts out of band, the drift report finds it, fleet.yml repairs
# it, and the dashboard is written.
DEMO_ACCOUNTS ?= 5
DEMO_INVENTORY = $(BUILD)/demo/fleet.accounts.yml
demo: setup
	$(BIN)/python -m tests.local_aws run -- bash -euo pipefail -c '\
	  ansible-playbook playbooks/demo.yml; \
	  echo "=== the same playbook again: nothing changes ==="; \
	  ansible-playbook playbooks/demo.yml | tee $(BUILD)/demo-rerun.log; \
	  grep -Eq "localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" $(BUILD)/demo-rerun.log; \
	  echo "=== event history: what the runs did ==="; \
	  ansible-playbook playbooks/event_history.yml; \
	  echo "=== the fleet: an organization of $(DEMO_ACCOUNTS) member accounts ==="; \
	  python -m tests.integration.fleet_helpers organization $(DEMO_ACCOUNTS) $(BUILD)/demo; \
	  ansible-playbook -i $(DEMO_INVENTORY) playbooks/fleet.yml -f $(DEMO_ACCOUNTS); \
	  echo "=== the fleet again: nothing changes in any account ==="; \
	  ansible-playbook -i $(DEMO_INVENTORY) playbooks/fleet.yml -f $(DEMO_ACCOUNTS) | tee $(BUILD)/demo-fleet-rerun.log; \
	  ! grep -E "^[0-9]{12} +: .*(changed=[1-9]|failed=[1-9])" $(BUILD)/demo-fleet-rerun.log; \
	  drifted=$$(sed -n "s/^\([0-9]\{12\}\) .*/\1/p" $(BUILD)/demo-fleet-rerun.log | head -1); \
	  echo "=== out of band: someone turns off logging in $$drifted ==="; \
	  python -m tests.integration.fleet_helpers drift $$drifted; \
	  echo "=== drift report ==="; \
	  ansible-playbook -i $(DEMO_INVENTORY) playbooks/drift_report.yml --check -f $(DEMO_ACCOUNTS) -e report_dir=$(BUILD)/reports >/dev/null; \
	  cat $(BUILD)/reports/drift_report.md; \
	  grep -q "^| drifted | 1 |" $(BUILD)/reports/drift_report.md; \
	  echo "=== repair: the fleet playbook puts it back ==="; \
	  ansible-playbook -i $(DEMO_INVENTORY) playbooks/fleet.yml -f $(DEMO_ACCOUNTS) | grep -E "^[0-9]{12} +:"; \
	  ansible-playbook -i $(DEMO_INVENTORY) playbooks/drift_report.yml --check -f $(DEMO_ACCOUNTS) -e report_dir=$(BUILD)/reports >/dev/null; \
	  grep -q "^| drifted | 0 |" $(BUILD)/reports/drift_report.md; \
	  echo "drift report after the repair: no account drifted ($(BUILD)/reports/drift_report.md)"; \
	  if [ -f playbooks/dashboard.yml ]; then \
	    echo "=== the fleet dashboard ==="; \
	    ansible-playbook -i $(DEMO_INVENTORY) playbooks/dashboard.yml -f $(DEMO_ACCOUNTS) -e report_dir=$(BUILD)/reports >/dev/null; \
	    echo "dashboard: $(BUILD)/reports/dashboard.html"; \
	  fi'

# The execution environment's build context (meta/execution-environment.yml),
# for AWX / Automation Platform: then `podman build build/ee/context`.
ee: setup
	rm -rf $(BUILD)/ee && mkdir -p $(BUILD)/ee
	$(BIN)/ansible-galaxy collection build --output-path $(BUILD)/ee .
	mv $(BUILD)/ee/trailops-cloudtrail-*.tar.gz $(BUILD)/ee/trailops-cloudtrail.tar.gz
	$(BIN)/ansible-builder create -f meta/execution-environment.yml -c $(BUILD)/ee/context --output-filename Containerfile

# ansible-test sees only its own collection tree: copy ours and amazon.aws there.
$(TEST_COPY): setup FORCE
	rm -rf $(TEST_ROOT)
	mkdir -p $(TEST_COPY) $(TEST_ROOT)/ansible_collections/amazon
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(TEST_COPY)
	cp -a $(SITE)/ansible_collections/amazon/aws $(TEST_ROOT)/ansible_collections/amazon/aws
	mkdir -p $(TEST_ROOT)/ansible_collections/community
	cp -a $(SITE)/ansible_collections/community/aws $(TEST_ROOT)/ansible_collections/community/aws
	mkdir -p $(dir $(GET_PIP_CACHE))
	cp tests/tools/get_pip_offline.py $(GET_PIP_CACHE)

sanity: $(TEST_COPY)
	cd $(TEST_COPY) && ansible-test sanity --python 3.11 --venv --requirements --color no $(SANITY_ARGS)

units: setup
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

# The dashboard's browser test needs Debian's chromium; as root on a bare CI
# machine it comes from Debian's package registry, the only one needed here.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ -x $(CHROMIUM) ]; then echo "$(CHROMIUM) is installed"; else \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; fi

# The AWS CLI in its own venv: the reference client that
# tests/integration/test_validate_logs_cli.py cross-checks validate_logs with (and bench's).
AWSCLI_VENV := $(BUILD)/awscli-venv

integration: setup browser $(AWSCLI_VENV)/.installed
	$(BIN)/python -m pytest tests/integration -q $(PYTEST_ARGS)

# Faults (throttling, 5xx), the bad-input matrix and secrets on a local AWS (docs/reliability.md).
reliability: setup
	$(BIN)/python -m pytest tests/reliability -q $(PYTEST_ARGS)

# The roles' molecule scenarios (extensions/molecule/), all on one local AWS
# that the `default` scenario starts and stops, on a free port picked here.
molecule: setup
	TRAILOPS_LOCAL_AWS_PORT=$$($(BIN)/python -c 'from tests.local_aws.server import free_port; print(free_port())') \
	  $(BIN)/molecule test --all

# Not part of `make test`: about 25 minutes on 2 cores; it starts its own local
# AWS. The AWS CLI (the comparison's event selectors) gets its own venv (AWSCLI_VENV, above).
BENCH_ARGS ?=
$(AWSCLI_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: setup $(AWSCLI_VENV)/.installed
	$(BIN)/python -m bench.run --aws-cli $(AWSCLI_VENV)/bin/aws $(BENCH_ARGS)

# ansible-lint's production profile, offline, as a user's CI runs it over the
# collection (.ansible-lint says what it leaves out and why); then over the YAML
# examples of README.md, docs/ and the roles' READMEs, which it cannot read in Markdown.
lint: setup
	$(BIN)/ansible-lint --nocolor
	$(BIN)/python tests/tools/lint_doc_examples.py

# Not part of `make test` (26 minutes on 2 busy cores, plus the venvs the first
# time): sanity (validate-modules, import, ansible-doc), the unit tests and the
# demo's single account, twice, on every ansible-core that meta/runtime.yml
# claims, each in its own venv under build/matrix/. MATRIX_CORES="2.18" runs one.
MATRIX_CORES ?= 2.17 2.18 2.19
matrix: setup
	tests/tools/matrix.sh $(MATRIX_CORES)

test: lint sanity units integration reliability molecule

changelog: setup
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) tests/output

FORCE:
