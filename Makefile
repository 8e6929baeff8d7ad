# Two commands a newcomer needs:  `make demo`  and  `make test`.
# Both build .venv from Python 3.12 when it is missing. `make test` also builds the
# documentation site (`make docs` alone builds only the site).

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
OUT ?= results/spectral-deconvolution

# Python 3.12 to build the environment from: PYTHON312=... overrides; otherwise the first
# interpreter on PATH or under pyenv that really is 3.12 (a pyenv shim that is not
# activated answers "command not found", so each candidate is run, not just looked up).
PYTHON312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 \
	/usr/local/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 \
	&& { echo "$$p"; break; }; done)

.PHONY: demo test test-slow docs lint format clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found: install it or pass PYTHON312=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# The documentation's extra (Sphinx, myst-nb, jupytext, numpydoc, furo), on top of .venv.
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,docs]"
	@touch $(DOCS_STAMP)

demo: $(STAMP)
	$(VENV)/bin/bayesmeas run spectral-deconvolution --output $(OUT)

# Lint, the test suite on every core (pytest-xdist; one test file per worker at a time,
# so module-scoped fixtures such as compiled models and quick case-study runs are made
# once; files are handed out as workers free up, which balances the long case
# studies), then the documentation site with warnings as errors. The tests run every
# quick case study into $(CASE_STUDY_RUNS), where the site finds the executed notebooks.
CASE_STUDY_RUNS := $(CURDIR)/docs/_build/case-study-runs
test: $(DOCS_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	BAYESMEAS_CASE_STUDY_OUTPUT=$(CASE_STUDY_RUNS) $(PY) -m pytest -n auto --dist loadfile
	@$(MAKE) --no-print-directory docs

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# The site in docs/_build/html. Warnings are errors (-W), every one is reported before
# failing (--keep-going), and broken cross-references count (-n, nitpicky). External
# links are not checked (no network in CI). A failed build drops Sphinx's cache, so that
# the next one reads every page again and reports every warning, not only the new ones.
docs: $(DOCS_STAMP)
	$(PY) -m sphinx -W --keep-going -n -b html docs docs/_build/html \
		|| { rm -rf docs/_build/html/.doctrees; exit 1; }

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache *.egg-info
	rm -rf docs/_build docs/api docs/models docs/case-studies
