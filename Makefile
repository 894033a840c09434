# Two entry points for a fresh machine (Python 3.10+): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Lint the bundled example app: it plants one of each anti-pattern, so findings (exit 1) are
# the expected outcome; any other status (0 or 2) fails the demo.
demo: $(STAMP)
	@echo "== fastapi-task-lint check examples/shop"
	@$(BIN)/fastapi-task-lint check examples/shop --show-source --statistics; test $$? -eq 1
	@echo "== fastapi-task-lint check examples/shop_no_status (a job API with no status route)"
	@$(BIN)/fastapi-task-lint check examples/shop_no_status --show-source; test $$? -eq 1
	@echo "== pytest examples/tests: the idempotency checks on the app's own tasks (pass)"
	@cd examples && ../$(BIN)/python -m pytest -q -p no:cacheprovider tests
	@echo "== pytest examples/demo_failing: naive tasks caught by the plugin (meant to FAIL)"
	@cd examples && ../$(BIN)/python -m pytest -q -p no:cacheprovider demo_failing; test $$? -eq 1

lint: $(STAMP)
	$(BIN)/ruff check fastapi_task_lint tests benchmarks examples
	$(BIN)/ruff format --check fastapi_task_lint tests benchmarks examples
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -m "not network"

docs: $(STAMP)
	$(BIN)/python -m fastapi_task_lint.docs > docs/rules.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .fastapi_task_lint_cache
