# Gongzhi: the two commands a newcomer needs are `make run` and `make test`.
# Each does the whole set-up itself and skips what is already done.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test setup assets lint typecheck pytest e2e bench-tree bench-insight messages clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON) --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.synced node_modules/.installed

# Collected again only when our static files, the npm assets or the Python packages change.
staticfiles/.collected: $(BIN)/.synced node_modules/.installed $(shell find gongzhi/static -type f 2>/dev/null)
	GONGZHI_DEBUG=1 $(BIN)/gongzhi manage collectstatic --noinput --verbosity 0
	touch $@

assets: setup staticfiles/.collected

run: assets
	$(BIN)/gongzhi run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy gongzhi

pytest: assets
	DJANGO_SETTINGS_MODULE=gongzhi.config.settings_test $(BIN)/gongzhi manage makemigrations --check --dry-run --verbosity 0
	$(BIN)/pytest -n 2 --dist loadfile -q
	$(BIN)/pytest -p no:xdist -q -m concurrency

test: lint typecheck pytest

e2e: assets
	mkdir -p var
	GONGZHI_TEST_DATABASE_FILE=$(CURDIR)/var/e2e-test.sqlite3 DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m e2e -q -p no:xdist tests/e2e

# Refresh the README's screenshots (docs/screenshots) from a new end-to-end run.
.PHONY: screenshots
screenshots: e2e
	$(BIN)/python tests/e2e/publish_screenshots.py

bench-tree: setup
	$(BIN)/python bench/tree.py

# PostgreSQL only: GONGZHI_DATABASE_URL names the server; a fresh test_… database is made and dropped.
bench-insight: setup
	$(BIN)/python bench/insight.py

messages: setup
	cd gongzhi && ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --no-location --ignore '*/tests/*' && ../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) $(TOOLS) node_modules staticfiles var
