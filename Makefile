# The two commands a new user needs: `make demo` (the main job on real data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo lint format bench data clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

data: $(STAMP)
	PY=$(PY) bash scripts/get_fashion_mnist.sh

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The real-data tests read Fashion-MNIST: `data` fetches it first, as on a fresh machine.
test: data lint
	$(VENV)/bin/pytest -q -n 2 tests aglu

# Each demo run gets its own folder: nothing trained before is ever overwritten.
DEMO_OUT ?= runs/demo-$(shell date +%Y%m%d-%H%M%S)

# Train the demo recipe (SE-ResNet-32, AGLU + APA, Fashion-MNIST-LT) on the CPU; prints the results
# table, throughput and data-wait share, then the README table from the run's metrics.json. It
# writes only its run folder; `python scripts/demo_results.py RUN --record benchmarks/results/demo`
# publishes a run as the README's demo.
demo: data
	$(VENV)/bin/aglu train configs/fashion_mnist_lt.yaml --out $(DEMO_OUT)
	$(PY) scripts/demo_results.py $(DEMO_OUT)

bench: $(STAMP)
	bash scripts/run_benchmarks.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
