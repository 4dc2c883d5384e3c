# The commands the README names. `make test` and `make book` create .venv if it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2
FULL   ?=
TIER   := $(if $(FULL),--full,)
# CPU=1: PyTorch's CPU-only wheels (no 3 GB of CUDA libraries) for machines without an NVIDIA GPU
CPU    ?=
CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: install browser test book lab student clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu install python3-venv"; exit 1; }
	$(if $(CPU),$(PY) -m pip install --quiet --disable-pip-version-check torch torchvision --index-url $(CPU_INDEX))
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

install: $(VENV)/.installed

# Headless Chromium for the website test: installed here when we are root on Debian/Ubuntu;
# elsewhere the site test says why it is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and CJK fonts (Debian packages) for the website test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-noto-cjk >/dev/null; \
	else echo "chromium not found and cannot be installed here: the browser test will be skipped"; fi

# 1) unit tests, every notebook in the quick tier (in parallel, one torch thread each), the full tier's
#    recipe of the MNIST notebooks for a few epochs on the real sample, static checks;
# 2) the student edition of the executed notebooks (solutions removed) re-run under nbval, so each runs
#    top to bottom with its exercises unanswered and its reproducible outputs unchanged; the website
#    build and the browser check.
test: install browser
	$(PY) -m pytest tests/unit tests/notebooks -n $(JOBS) --dist load
	$(PY) -m dlbook student _build/student-executed --from _build/executed --keep-outputs >/dev/null
	@mkdir -p _build/tmp  # nbval stops kernels without their exit handlers: their temporary folders land here
	TMPDIR=$(CURDIR)/_build/tmp DLBOOK_THREADS=1 DLBOOK_PROGRESS=0 DLBOOK_HEADLESS=1 $(PY) -m pytest --nbval-lax _build/student-executed \
	  tests/site -n $(JOBS) --dist loadfile -p no:cacheprovider

book: install
	$(PY) -m dlbook run --jobs $(JOBS) $(TIER)
	$(PY) -m dlbook site
	@echo "open _build/html/index.html"

lab: install
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[lab]"
	$(VENV)/bin/jupyter lab notebooks

# the notebooks for a class: solution cells removed, outputs cleared
student: install
	$(PY) -m dlbook student _build/student

clean:
	rm -rf _build
