# Every target sets up .venv itself; a second run skips the install (stamp file).
# No MPLBACKEND here: notebook kernels would inherit it and inline figures would vanish.

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test figures bench run-notebooks reset-notebook

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	touch $@

# Open the series in JupyterLab at the table of contents, from the learner's own copies in
# my-notebooks/ (made on first use, never overwritten; notebooks/ stays as tested). Prints the
# address of 00-contents once the server is up. See scripts/lab.py.
lab: $(STAMP)
	$(VENV)/bin/python scripts/lab.py $(ROOT_ARGS) $(LAB_ARGS)

# Start one notebook afresh: `make reset-notebook NB=05` moves my-notebooks/05-*.ipynb to
# my-notebooks/backups/ and copies the stored notebook again.
reset-notebook: $(STAMP)
	$(VENV)/bin/python scripts/lab.py reset $(NB)

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
# transport_encryption: without it every kernel warns that it runs "over TCP without encryption".
run-notebooks: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --KernelManager.transport_encryption=auto notebooks/[0-9][0-9]-*.ipynb

# Notebook 05's eigenvalue explorer alone, as a Voila app on 127.0.0.1 (no code shown).
# Extra options: make explorer EXPLORER_ARGS="--no-browser --port 8866"
EXPLORER_ARGS ?=
.PHONY: explorer
explorer: $(STAMP)
	$(VENV)/bin/voila apps/explorer.ipynb --Voila.ip=127.0.0.1 $(EXPLORER_ARGS)
