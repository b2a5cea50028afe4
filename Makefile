# Every target sets up .venv itself; a second run skips the install (stamp file).
# No MPLBACKEND here: notebook kernels would inherit it and inline figures would vanish.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test figures bench run-notebooks

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	touch $@

# Open the series in JupyterLab, at the table of contents.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/00-contents.ipynb $(ROOT_ARGS) $(LAB_ARGS)

# Unit tests, the browser test (skipped with a reason when no chromium), strict nbval.
test: $(STAMP)
	$(VENV)/bin/python -m pytest tests notebooks $(NBVAL) -q

# Rewrite every file in figures/ from the figure functions in rnnlib.
figures: $(STAMP)
	$(VENV)/bin/python -m rnnlib.plots.figures

# Print the speed tables (record them in benchmarks/README.md).
bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(VENV)/bin/python $$script || exit 1; done

# Re-run every notebook from a clean kernel and store its outputs (after editing one).
run-notebooks: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/[0-9][0-9]-*.ipynb
