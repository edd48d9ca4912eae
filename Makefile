# The two commands of the README: `make demo` and `make test`. Both create .venv
# on first use, with torch pinned to the local CPU build (an unpinned torch would
# pull a multi-GB CUDA build on these machines).
VENV   := .venv
PY     := $(VENV)/bin/python
LJFIT  := $(VENV)/bin/ljfit
STAMP  := $(VENV)/.ljfit-installed
TORCH  := torch==2.13.0
DEMO   := sample_data/argon_mixture/mixture.extxyz

.PHONY: demo test

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,plot]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(LJFIT) inspect $(DEMO) --format table
	$(LJFIT) fit $(DEMO) --cutoff 8.5 --shift --forces -o out/params.json --residuals out/residuals.csv \
		--plot out/parity.png --format table
	$(LJFIT) export out/params.json --to lammps
	@echo "demo: parameters in out/params.json, residuals in out/residuals.csv, parity plot in out/parity.png"

test: $(STAMP)
	LD_LIBRARY_PATH="$$(bash tests/install_lammps.sh $(PY))$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" $(PY) -m pytest
