# Django Channels, step by step. Every target sets up .venv itself the first time.
#   make test    everything the course checks (what CI runs)
#   make run     the final chat, on http://127.0.0.1:8000 (SQLite and the in-memory layer)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LESSON ?= 01
CHAT   := final_project

.DEFAULT_GOAL := help
.PHONY: help setup provision run test docs docs-build list start check hint watch bench lock clean

help:
	@echo "make test                 run every check of the course (tests, notebooks, site)"
	@echo "make run                  serve the final chat on http://127.0.0.1:8000"
	@echo "make docs                 serve the site on http://127.0.0.1:8008"
	@echo "make start LESSON=01      copy a lesson into workspace/ with its tasks to do"
	@echo "make check LESSON=01      the checker's verdict on your copy, task by task"
	@echo "make hint LESSON=01       the next hint"
	@echo "make watch LESSON=01      re-check on every save"
	@echo "make bench                timing figures (course check, the test suite, the chat under load)"
	@echo "The course tool itself:   $(BIN)/course --help"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	@cd $(CHAT) && ../$(BIN)/python manage.py migrate --noinput --verbosity 0
	@echo ""
	@echo "  The chat: http://127.0.0.1:8000/"
	@echo "  Try it with two users: open that address in a normal window and in a private window,"
	@echo "  sign up as two different users, create a room in the first, open it in the second, chat."
	@echo ""
	cd $(CHAT) && ../$(BIN)/python manage.py runserver 127.0.0.1:8000

# Find or install the browser and Redis the tests use (stops with one clear instruction if it cannot).
provision: $(STAMP)
	@$(BIN)/python -m coursekit.provision

# The course (lessons, their proofs, notebooks, site), then the final chat's own suite: both always
# run, and make fails if either failed.
test: provision
	@status=0; \
	$(BIN)/python -m pytest || status=$$?; \
	(cd $(CHAT) && ../$(BIN)/python -m pytest) || status=$$?; \
	exit $$status

docs: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8008

docs-build: $(STAMP)
	$(BIN)/mkdocs build --strict

list: $(STAMP)
	$(BIN)/course list

start: $(STAMP)
	$(BIN)/course start $(LESSON)

check: $(STAMP)
	$(BIN)/course check $(LESSON)

hint: $(STAMP)
	$(BIN)/course hint $(LESSON)

watch: $(STAMP)
	$(BIN)/course watch $(LESSON)

bench: $(STAMP)
	$(BIN)/python -m coursekit.bench
	cd $(CHAT) && ../$(BIN)/python bench.py

# Re-pin constraints.txt to what is installed now (after a deliberate upgrade, and a green make test).
lock: $(STAMP)
	{ head -3 constraints.txt; $(BIN)/pip freeze --all --exclude-editable | grep -v '^channels-step-by-step\|^pip=='; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) site test-artifacts lessons/*/test-artifacts $(CHAT)/test-artifacts $(CHAT)/db.sqlite3

# Lesson 04: Redis (the tests' own resolution when REDIS_URL is unset) and two daphne processes
# sharing it, on http://127.0.0.1:8001 and http://127.0.0.1:8002. Ctrl-C stops them all.
.PHONY: two-servers
two-servers: $(STAMP)
	$(BIN)/python lessons/04_redis/run_two_servers.py
