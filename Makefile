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
.PHONY: help setup provision run test docs docs-teacher docs-build list start check hint watch bench lock clean

help:
	@echo "make test                 run every check of the course (tests, notebooks, site)"
	@echo "make run                  serve the final chat on http://127.0.0.1:8000"
	@echo "make docs                 serve the site on http://127.0.0.1:8008 (the public edition: no solutions)"
	@echo "make docs-teacher         serve the teacher's edition, with the solutions, on http://127.0.0.1:8009"
	@echo "make screenshots          retake the site's pictures (docs/img/) with the browser tests"
	@echo "make start LESSON=01      copy a lesson into workspace/ with its tasks to do"
	@echo "make check LESSON=01      the checker's verdict on your copy, task by task"
	@echo "make hint LESSON=01       the next hint"
	@echo "make watch LESSON=01      re-check on every save"
	@echo "make bench                timing figures: course check, the test suite, the chat under load (build/bench/)"
	@echo "make chat-servers         the chat as deployed: PostgreSQL, Redis, daphne on :8001 and :8002"
	@echo "The course tool itself:   $(BIN)/course --help"

# Everything: the core a learner and a grader need, and the extras for the site, the notebooks and the
# course's own development (pyproject.toml). A learner's light install is `pip install -c constraints.txt -e .`
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[docs,notebooks,dev]"
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

# Find or install the browser, Redis and PostgreSQL the tests use (stops with one clear instruction if it cannot).
provision: $(STAMP)
	@$(BIN)/python -m coursekit.provision

# The course (lessons, their proofs, notebooks, site), then the final chat's own suite on SQLite and again
# on PostgreSQL (a throwaway server, or DATABASE_URL's): all three always run, and make fails if one failed.
test: provision
	@status=0; \
	$(BIN)/python -m pytest || status=$$?; \
	(cd $(CHAT) && ../$(BIN)/python -m pytest --database sqlite) || status=$$?; \
	(cd $(CHAT) && ../$(BIN)/python -m pytest --database postgresql) || status=$$?; \
	exit $$status

# The site while you write it; it executes the notebooks on every rebuild. With
# COURSE_REUSE_NOTEBOOK_OUTPUTS=1 it shows the outputs of the notebooks' last passing test run instead.
# Two editions from the same sources (coursekit/mkdocs_solutions.py): COURSE_SITE=public, the default and
# what is published, shows no solution; COURSE_SITE=teacher adds each lesson's folded Solutions.
docs: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8008

docs-teacher: $(STAMP)
	COURSE_SITE=teacher $(BIN)/mkdocs serve -a 127.0.0.1:8009

# The site as published (the public edition, whatever COURSE_SITE says): the build executes every
# notebook itself, whatever the tests ran last.
docs-build: $(STAMP)
	COURSE_SITE=public COURSE_REUSE_NOTEBOOK_OUTPUTS= $(BIN)/mkdocs build --strict

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

# The bench extra (uvicorn with uvloop and httptools, matplotlib): installed the first time make bench runs,
# never by make test.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]"
	@touch $(BENCH_STAMP)

# The course's timings (coursekit.bench), then the chat under load beside the raw websockets server and the
# tutorial consumer (benchmarks/, about 15 minutes): build/bench/results.md, results.json and *.png.
# BENCH_ARGS goes to the second: BENCH_ARGS=--quick (one repeat), BENCH_ARGS="--only 'chat-*/A-sat'",
# BENCH_ARGS="--chat-project ../other-checkout" (python -m benchmarks --help says more).
BENCH_ARGS ?=
bench: $(BENCH_STAMP)
	$(BIN)/python -m coursekit.bench
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The site's "What you will build" pictures, docs/img/*.png: taken by the browser tests that drive those pages,
# on the solutions. Only with COURSE_SCREENSHOTS set does a test write a picture.
.PHONY: screenshots
SHOOT = COURSE_SCREENSHOTS=$(CURDIR)/docs/img $(CURDIR)/$(BIN)/python -m pytest -q -p no:cacheprovider
screenshots: provision
	cd lessons/01_http_vs_websocket && $(SHOOT) tests/test_task5_page.py::test_the_page_shows_both_clocks_ticking
	cd lessons/02_consumers && $(SHOOT) \
	    tests/test_task5_page.py::test_the_page_shows_a_stranger_refused_then_a_member_greeted
	cd lessons/03_channel_layers && $(SHOOT) \
	    tests/test_task5_room_page.py::test_two_pages_in_one_room_chat_and_another_room_sees_nothing
	cd lessons/04_redis && $(SHOOT) \
	    tests/test_task2_two_pages.py::test_two_pages_on_two_processes_sharing_redis_show_each_others_messages
	cd $(CHAT) && $(SHOOT) \
	    tests/test_browser.py::test_two_users_chat_see_presence_and_typing_and_survive_a_dropped_socket
	@ls -l docs/img/*.png

# Re-pin constraints.txt from pyproject.toml (core and every extra) with pip-tools. The versions already
# pinned there are kept; only a new or changed requirement is resolved afresh. To move on deliberately (then
# run make test): make lock LOCK_ARGS=--upgrade, or LOCK_ARGS="--upgrade-package django".
LOCK_ARGS ?=
lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --all-extras --strip-extras \
	    --no-emit-index-url --no-emit-find-links --output-file constraints.txt $(LOCK_ARGS) pyproject.toml

clean:
	rm -rf $(VENV) site site-teacher build/executed-notebooks test-artifacts lessons/*/test-artifacts $(CHAT)/test-artifacts $(CHAT)/db.sqlite3 $(CHAT)/db.sqlite3-wal $(CHAT)/db.sqlite3-shm

# Lesson 04: Redis (the tests' own resolution when REDIS_URL is unset) and two daphne processes
# sharing it, on http://127.0.0.1:8001 and http://127.0.0.1:8002. Ctrl-C stops them all.
.PHONY: two-servers
two-servers: $(STAMP)
	$(BIN)/python lessons/04_redis/run_two_servers.py

# The final chat as the deployment page runs it: PostgreSQL (data kept in final_project/.postgres) unless
# DATABASE_URL is set, Redis unless REDIS_URL is set, two daphne processes on 8001 and 8002. Ctrl-C stops them all.
.PHONY: chat-servers
chat-servers: $(STAMP)
	$(BIN)/python $(CHAT)/run_servers.py
