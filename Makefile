# make run  — set up and serve the demo on http://127.0.0.1:5000
# make test — set up and run the whole test suite (SQLite, PostgreSQL, browser)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-sqlite test-postgres test-browser translations extract-messages lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

translations: $(VENV)/.runtime-installed
	$(BIN)/pybabel compile -d translations

run: $(VENV)/.runtime-installed translations
	$(BIN)/flask db upgrade
	DELIBERATION_DEMO=1 $(BIN)/flask demo --if-empty
	# The notification worker runs beside the server and ends with it (Ctrl-C, or the server exiting).
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	FLASK_DEBUG=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

test: $(VENV)/.dev-installed translations
	$(BIN)/python scripts/run_tests.py

test-sqlite test-postgres test-browser: $(VENV)/.dev-installed translations
	$(BIN)/python scripts/run_tests.py --only $(subst test-,,$@)

extract-messages: $(VENV)/.runtime-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d translations --no-wrap --ignore-obsolete --no-fuzzy-matching

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check deliberation tests bench scripts

bench: $(VENV)/.dev-installed translations
	$(BIN)/python bench/bench_roll_import.py
	$(BIN)/python bench/bench_proposal_list.py
	$(BIN)/python bench/tally.py
	$(BIN)/python bench/ballot_load.py
	$(BIN)/python bench/static_bytes.py
	$(BIN)/python bench/notify_bench.py
	$(BIN)/python bench/requests_ranking.py

clean:
	rm -rf $(VENV) instance test-artifacts
