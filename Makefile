# Two commands on a fresh machine: `make run` (the bot; with no BOT_TOKEN it talks to the built-in
# Bot API emulator in a terminal chat) and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint bench console clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@if fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1; then :; \
	else echo "note: no CJK font and could not install fonts-wqy-microhei: posters, charts and browser tests need one"; fi
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/linli run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

# the few real-time tests (Telegram's real limits, killed worker processes, a restarted PostgreSQL): CI runs them
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/intents_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache
