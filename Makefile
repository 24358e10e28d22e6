# The editorial workflow. `make demo` and `make test` install whatever is missing first.
ISSUE   ?= examples/2015-10
OUT     ?= build/$(notdir $(ISSUE))
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# Output file name stem of the issue (2015-10), asked of the tool when a target needs it.
STEM     = $(shell $(BIN)/python -c 'import sys; from publisher.source.load import load_issue; \
             from publisher.output import output_stem; print(output_stem(load_issue(sys.argv[1])))' $(ISSUE))
# Debian packages the build needs: CJK fonts by role, HarfBuzz subsetting (fast font embedding),
# poppler for checks and proofs, Java for EPUBCheck, Ghostscript's CMYK profile for press PDFs.
# zbar-tools reads the 期刊条码 back in the tests.
DEB_PACKAGES := fonts-noto-cjk fonts-lxgw-wenkai libharfbuzz-subset0 poppler-utils \
                default-jre-headless libgs-common zbar-tools

.PHONY: setup system-packages demo pdf press epub check validate test clean
.DEFAULT_GOAL := demo

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "Missing Debian packages: $$missing"; \
	    echo "Install them as root: apt-get install $$missing"; exit 1; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/publisher build $(ISSUE) -o $(OUT)

pdf: setup
	$(BIN)/publisher build $(ISSUE) -o $(OUT) --pdf

press: setup
	$(BIN)/publisher build $(ISSUE) -o $(OUT) --pdf --press

epub: setup
	$(BIN)/publisher build $(ISSUE) -o $(OUT) --epub

check: pdf
	$(BIN)/publisher check $(OUT)/$(STEM).pdf

validate: setup
	$(BIN)/publisher validate $(ISSUE)

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf build .pytest_cache
