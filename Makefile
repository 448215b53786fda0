# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# extra pip arguments for the pinned torch: PyPI's Linux torch wheel is the CUDA build (GBs); for the
# CPU build from PyTorch's own index: make demo TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu'
TORCH_PIP_ARGS ?=
STAMP  := $(VENV)/.mutualfuse-installed

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "make: $(PYTHON) is Python %d.%d; mutualfuse needs 3.11 or newer (make demo PYTHON=python3.11)" % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the pinned torch first, so that the package's `torch>=2.6` range installs nothing more
	$(PY) -m pip install -q torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mutualfuse demo --device cpu -o out/demo

# The whole suite with 1 thread per process (2 processes), then the numeric network tests again
# with 2 threads in one process: other thread counts take other kernels and other reduction
# orders, so a tolerance at the edge of float32 rounding shows up here and not on a contributor's
# machine. The second pass leaves out the training, multi-process training and distributed fuse-dir
# tests (their processes run with 1 thread whatever the run asks). Measured in the clean-clone CI of
# 2026-12-07 (28th session) on 2 cores: first pass 7046 tests in 1029 s wall, this pass 1362 tests in 395 s.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile
	OMP_NUM_THREADS=2 $(PY) -m pytest -q -p no:xdist tests/test_suite_setup.py tests/core tests/io \
		--ignore=tests/core/test_training.py --ignore=tests/core/test_audit_s17_train_ranks.py \
		--ignore=tests/io/test_fuse_dir_distributed.py

bench: $(STAMP)
	$(PY) benchmarks/bench_fuse.py
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_baselines.py
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf $(VENV) out build dist src/*.egg-info

# The web page in a real browser, from a freshly built wheel: installs Debian's chromium and
# chromium-driver (apt; fails loudly if it cannot), builds the wheel (no build-backend
# deprecation warning allowed), installs it with torch==2.13.0 into a fresh venv, runs
# `mutualfuse demo` and `fuse` from it outside the source tree, then the browser test
# (tests/web, which starts `mutualfuse serve` from that venv). SCREENSHOT=docs/figures/serve.png
# also saves the page as the test left it.
WEBVENV ?= build/venv-web
.PHONY: test-web
test-web: $(STAMP)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		command -v apt-get >/dev/null || { echo "test-web: no apt-get; install chromium and chromium-driver" >&2; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
			|| { echo "test-web: apt-get install chromium chromium-driver FAILED" >&2; exit 1; }; \
	fi
	test -x /usr/bin/chromium && test -x /usr/bin/chromedriver
	$(PY) -m pip install -q 'build>=1.2'
	rm -rf build/wheel-dist && mkdir -p build
	$(PY) -m build --wheel --outdir build/wheel-dist . > build/wheel.log 2>&1 || { cat build/wheel.log; exit 1; }
	@if grep -i "deprecat" build/wheel.log; then echo "test-web: the build backend warns (above)" >&2; exit 1; fi
	rm -rf $(WEBVENV) && $(PYTHON) -m venv $(WEBVENV)
	$(WEBVENV)/bin/pip install -q --upgrade pip
	$(WEBVENV)/bin/pip install -q torch==2.13.0
	$(WEBVENV)/bin/pip install -q "$$(ls build/wheel-dist/mutualfuse-*.whl)[web-test]"
	rm -rf build/wheel-smoke && mkdir -p build/wheel-smoke
	cd build/wheel-smoke && OMP_NUM_THREADS=1 ../../$(WEBVENV)/bin/mutualfuse demo --device cpu -o demo --pair tno-01
	cd build/wheel-smoke && OMP_NUM_THREADS=1 ../../$(WEBVENV)/bin/mutualfuse fuse ../../src/mutualfuse/data/samples/lytro-01/a.png \
		../../src/mutualfuse/data/samples/lytro-01/b.png -o fused.png -q && test -s fused.png
	cd build/wheel-smoke && ../../$(WEBVENV)/bin/python -c "import mutualfuse, sys; \
		sys.exit(0 if 'site-packages' in mutualfuse.__file__ else 'not the wheel: ' + mutualfuse.__file__)"
	OMP_NUM_THREADS=1 MUTUALFUSE_REQUIRE_WEB=1 MUTUALFUSE_WEB_SCREENSHOT=$(SCREENSHOT) \
		$(WEBVENV)/bin/python -m pytest -q -p no:cacheprovider tests/web
