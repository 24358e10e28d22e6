# The editorial workflow. `make demo` and `make test` install whatever is missing first.
ISSUE   ?= examples/2015-10
# ISSUE=examples/2015-10/ (as the shell completes a folder) has the same OUT as without the /.
OUT     ?= build/$(notdir $(patsubst %/,%,$(ISSUE)))
ROUND   ?= 一校
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# Output file name stem of the issue (2015-10), asked of the tool when a target needs it.
STEM     = $(shell $(BIN)/python -c 'import sys; from publisher.source.load import load_issue; \
             from publisher.output import output_stem; print(output_stem(load_issue(sys.argv[1])))' "$(ISSUE)")
# Debian packages the build needs: CJK fonts by role, HarfBuzz subsetting (fast font embedding),
# poppler for checks and proofs, Java for EPUBCheck, Ghostscript's CMYK profile for press PDFs,
# Chromium for DAISY Ace and the tests that read the EPUB and the catalogue at phone width,
# zbar-tools to read the 期刊条码 back in the tests.
DEB_PACKAGES := fonts-noto-cjk fonts-lxgw-wenkai libharfbuzz-subset0 poppler-utils \
                default-jre-headless libgs-common chromium zbar-tools
# DAISY Ace (package.json, pinned by package-lock.json) runs in Debian's Chromium: npm downloads
# no browser of its own.
CHROMIUM := /usr/bin/chromium
ACE      := node_modules/.bin/ace-puppeteer
NODE_ENV := PUPPETEER_SKIP_DOWNLOAD=1 ELECTRON_SKIP_BINARY_DOWNLOAD=1

.PHONY: setup system-packages node-tools demo pdf press epub check validate watch preview test \
        bench clean lint stats proof offprints
.DEFAULT_GOAL := demo

# The package's bytecode is written here, not left to each process: where PYTHONDONTWRITEBYTECODE
# is set (containers, CI), every build, worker and jieba process would compile it again.
setup: system-packages $(VENV)/.installed
	@$(BIN)/python -m compileall -q publisher

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

# Installed when npm is there; without it, the checks and tests that need Ace say they skip it.
node-tools:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory node_modules/.installed; \
	else echo "npm not found: DAISY Ace is not installed, its checks are skipped"; fi

node_modules/.installed: package.json package-lock.json
	$(NODE_ENV) npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/publisher build "$(ISSUE)" -o "$(OUT)"

pdf: setup
	$(BIN)/publisher build "$(ISSUE)" -o "$(OUT)" --pdf

press: setup
	$(BIN)/publisher build "$(ISSUE)" -o "$(OUT)" --pdf --press

epub: setup
	$(BIN)/publisher build "$(ISSUE)" -o "$(OUT)" --epub

# The PDF's typesetting rules; the EPUB's EPUBCheck and, where npm and Chromium are, DAISY Ace.
check: setup node-tools
	$(BIN)/publisher build "$(ISSUE)" -o "$(OUT)"
	$(BIN)/publisher check "$(OUT)/$(STEM).pdf"
	$(BIN)/epubcheck "$(OUT)/$(STEM).epub"
	@if [ -x $(ACE) ] && [ -x $(CHROMIUM) ]; then \
	    PUPPETEER_EXECUTABLE_PATH=$(CHROMIUM) $(ACE) --exiterror2 --force --silent \
	        --outdir "$(OUT)/ace" "$(OUT)/$(STEM).epub" \
	    && echo "DAISY Ace: no violations ($(OUT)/ace/report.html)" \
	    || { echo "DAISY Ace found violations: $(OUT)/ace/report.html"; exit 1; }; \
	else echo "DAISY Ace skipped: it needs npm (make node-tools) and $(CHROMIUM)"; fi

lint: setup
	$(BIN)/publisher lint "$(ISSUE)"

stats: setup
	$(BIN)/publisher stats "$(ISSUE)" -o "$(OUT)"

proof: setup
	$(BIN)/publisher proof "$(ISSUE)" --round "$(ROUND)" -o "$(OUT)"

offprints: setup
	$(BIN)/publisher offprints "$(ISSUE)" -o "$(OUT)"

validate: setup
	$(BIN)/publisher validate "$(ISSUE)"

# Rebuild on every change to the issue, its layouts or fonts.
watch: setup
	$(BIN)/publisher watch "$(ISSUE)" -o "$(OUT)"

# The same, with the pages in a browser at http://127.0.0.1:8011/ (PORT=…), reloading by itself.
preview: setup
	$(BIN)/publisher preview "$(ISSUE)" -o "$(OUT)" --port $(or $(PORT),8011)

test: setup node-tools
	$(BIN)/python -m pytest -q

# Timings against bare WeasyPrint on the same HTML, written to bench/RESULTS.md (RUNS=3 each).
bench: setup
	$(BIN)/python bench/bench.py

# Also the build cache (publisher/cache.py says where it is) and the warm build process.
clean:
	test ! -x $(BIN)/publisher || $(BIN)/publisher server stop
	rm -rf build .pytest_cache
	test ! -x $(BIN)/python || rm -rf "$$($(BIN)/python -m publisher.cache)"
