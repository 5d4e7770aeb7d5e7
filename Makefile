# CoopCore: `make run` serves the demo, `make test` runs every check. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SERVICES := $(PY) -m control_plane.devservices exec --
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck migrations-check messages chromium bench bench-provisioning bench-books bench-members bench-lending bench-control-plane bench-notifications bench-field bench-migration chaos-field install clean-data

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	@touch $@

# Translations are kept as .po files; the compiled .mo files are built here (Babel, no gettext needed).
messages: $(INSTALLED)
	@for po in locale/*/LC_MESSAGES/*.po; do \
		$(VENV)/bin/pybabel compile --use-fuzzy -i "$$po" -o "$${po%.po}.mo" >/dev/null 2>&1 \
			|| { echo "cannot compile $$po"; exit 1; }; \
	done

run: $(INSTALLED) messages
	$(PY) -m control_plane.devservices run

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

migrations-check: $(INSTALLED)
	$(SERVICES) $(PY) manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium, and PDFs are drawn by WeasyPrint (Pango), both with Noto fonts
# for Bangla and Thai; installed when we can (root) and missing.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans Bengali" \
		|| ! ldconfig -p 2>/dev/null | grep -q libpangoft2; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Chromium from Debian for the browser tests ..."; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 >/dev/null) \
				|| echo "WARNING: Chromium could not be installed; browser tests will be skipped (loudly)."; \
		else \
			echo "WARNING: no Chromium and not root; browser tests will be skipped (loudly)."; \
		fi; \
	fi

test: $(INSTALLED) messages chromium lint migrations-check
	$(SERVICES) $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: bench-provisioning bench-books bench-members bench-lending bench-control-plane bench-notifications bench-field bench-migration

bench-provisioning: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.provisioning

bench-books: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.books

bench-members: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.members

bench-lending: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.lending

bench-control-plane: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.control_plane

bench-notifications: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.notifications

bench-field: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.field

bench-migration: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.migration

# The chaos check of field sync at full size (replays, lost answers, the server killed twice); not in
# `make bench`. CI runs it small: tests/field/test_chaos.py.
chaos-field: $(INSTALLED)
	$(SERVICES) $(PY) -m bench.field_chaos --collections 10000 --devices 20

clean-data:
	rm -rf .data
