# The two commands of the README: `make run` (the whole platform) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: run test bench lint format install install-dev system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip

# Stamps make a second `make run` start fast: pip runs again only when a requirements file changed.
$(VENV)/.runtime-installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-dev.txt -c constraints.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

# Debian packages the suite needs (chromium, espeak-ng, nginx, CJK fonts): installed when missing, or one
# line saying what to install where this machine cannot (not root, no apt-get).
system-packages:
	@bash platform/install_system_packages.sh

run: install
	$(BIN)/python platform/shuohua_run.py

test: install-dev system-packages
	$(BIN)/python platform/with_redis.py $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev system-packages
	$(BIN)/python platform/with_redis.py $(BIN)/python bench/run_all.py $(BENCH)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python platform/check_types.py

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache
