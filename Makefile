# The two commands of the README: `make demo` and `make test`. Both create .venv
# on first use, with torch pinned to the local CPU build (an unpinned torch would
# pull a multi-GB CUDA build on these machines).
VENV   := .venv
PY     := $(VENV)/bin/python
LJFIT  := $(VENV)/bin/ljfit
STAMP  := $(VENV)/.ljfit-installed
TORCH  := torch==2.13.0
DEMO   := sample_data/argon_mixture/mixture.extxyz
ADS    := sample_data/adsorption

.PHONY: demo test

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,plot,dask]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(LJFIT) inspect $(DEMO) --format table
	$(LJFIT) fit $(DEMO) --cutoff 8.5 --shift --forces -o out/params.json --residuals out/residuals.csv \
		--plot out/parity.png --format table
	$(LJFIT) fit $(ADS)/structures/*.xyz --energies $(ADS)/energies.csv --fragment-split 3 \
		--interactions inter-fragment --init Cu.epsilon=0.02 --init Cu.sigma=2.3 --fix Cu.epsilon --fix Cu.sigma \
		-o out/co2_cu.json --plot out/co2_cu.png --format table
	$(LJFIT) export out/params.json --to lammps
	@echo "demo: parameters in out/params.json and out/co2_cu.json, residuals in out/residuals.csv,"
	@echo "      parity plots in out/parity.png and out/co2_cu.png"

test: $(STAMP)
	bash tests/install_engines.sh $(PY)
	LD_LIBRARY_PATH="$$(bash tests/install_lammps.sh $(PY))$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" $(PY) -m pytest
