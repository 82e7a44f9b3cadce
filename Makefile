# Everything installs from requirements/lock.txt: every package pinned with its hashes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP_STAMP := $(VENV)/.pip

# llama-cpp-python is compiled from its hash-pinned source for the CPU of this machine: -march=native keeps every
# instruction family the CPU has (AVX2, AVX-512, VNNI, BF16...), so decoding is as fast as a native build, but
# Intel's AMX tiles are switched off. The kernel hands AMX to a process only on request, per thread group, and
# ggml's AMX kernels run on OpenMP worker threads that never asked: SIGILL (`tilezero`) on the first decode of
# any AMX Xeon. An explicit -mno-* flag wins over -march=native whatever their order, and a compiler that does not
# know AMX cannot emit it. Chosen over GGML_NATIVE=OFF with flags listed by hand (which would need our own CPU
# detection and drift from it) and over the runtime-dispatched CPU variants (GGML_CPU_ALL_VARIANTS compiles
# ggml-cpu once per CPU generation: several times the build time on 2 cores). LLAVA_BUILD=OFF: DOS never loads the
# multimodal library, and not compiling it saves a part of the build.
NO_AMX := $(foreach f,amx-tile amx-int8 amx-bf16,$(shell cc -mno-$(f) -x c -E /dev/null >/dev/null 2>&1 && echo -mno-$(f)))
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
# The stamp is named by the build options: a venv built with other options (e.g. a plain native build that
# compiled AMX in) gets llama-cpp-python rebuilt by the next `make install`.
LLAMA_STAMP := $(VENV)/.llama-$(shell printf '%s' "$(LLAMA_CMAKE_ARGS)" | cksum | cut -d' ' -f1)

.PHONY: install llama llama-cmake-args test bench lock

install: $(STAMP)

# The venv, with pip itself from requirements/pip.txt (hash-pinned: the bundled one rejects the lock).
$(PIP_STAMP): requirements/pip.txt
	$(PYTHON) -c 'import sys; sys.exit("DOS needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/pip.txt
	touch $@

# Built alone, from the lock's sdist and hashes, with pip's cache off: a wheel pip cached from an earlier build of
# the same version (native with AMX, say) would otherwise be installed again without a word.
$(LLAMA_STAMP): requirements/lock.txt | $(PIP_STAMP)
	rm -f $(VENV)/.llama-*
	awk '/^llama-cpp-python==/ {on=1; print; next} on && /^ +--hash/ {print; next} {on=0}' requirements/lock.txt \
		> $(VENV)/llama-lock.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir --force-reinstall --no-deps \
		--require-hashes -r $(VENV)/llama-lock.txt
	touch $@

# Rebuild llama-cpp-python in place (after a CPU change, or when `dos doctor` reports a crash on decode).
llama:
	rm -f $(VENV)/.llama-*
	$(MAKE) $(LLAMA_STAMP)

llama-cmake-args:
	@echo "$(LLAMA_CMAKE_ARGS)"

$(STAMP): requirements/lock.txt pyproject.toml $(PIP_STAMP) $(LLAMA_STAMP)
	$(PY) -m pip install --quiet --require-hashes -r requirements/lock.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# pytest exits 5 when it collects no test; that is not a failure of the suite.
test: $(STAMP)
	$(PY) -m pytest --durations=15; rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc

bench: $(STAMP)
	$(PY) tests/perf/bench.py
	$(PY) tests/perf/bench_serve.py

# Re-pin the whole tree after a deliberate change to pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements/lock.txt
