# golivekitsink — build, demo, tests, benchmarks.
#   make plugin   build/libgstgolivekit.so (meson + go build -buildmode=c-shared)
#   make demo     local livekit-server + gst-launch publisher + subscriber that counts frames
#   make test     vet, unit tests (race; plugin/ with GStreamer, no server), end-to-end tests against real servers
#   make bench    benchmark tables
#   make fuzz     every Go fuzz target for FUZZTIME each
#   make soak     an hour of faults against a cluster, leak and recovery table
SHELL := /bin/bash
BUILD ?= build
export GOFLAGS := -mod=mod
export PATH := $(PATH):/usr/local/go/bin
export GOLIVEKIT_PLUGIN_DIR ?= $(CURDIR)/$(BUILD)

.PHONY: all setup plugin demo test unit e2e bench fuzz soak clean

all: plugin

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

plugin: $(BUILD)/build.ninja
	@meson compile -C $(BUILD)

demo: setup plugin
	scripts/demo.sh

test: setup plugin unit e2e

# Every pure-Go package (all but the cgo plugin/, which needs its own race
# build of go-gst), then plugin/.
unit:
	go vet ./...
	go test -race -count=1 $$(go list ./... | grep -v -e '/plugin$$' -e '/plugin/' -e '/examples/')
	go test -race -count=1 ./plugin/...

# -p 1: one test binary at a time; media timing on 2 cores must not compete.
e2e:
	cd tests && go vet ./...
	cd tests && go test -p 1 -count=1 -timeout 60m ./...

# Each fuzz target of the pure-Go packages for FUZZTIME, one at a time (-fuzz
# takes one target). A failure leaves its input in <pkg>/testdata/fuzz/<target>/,
# where `go test` (make unit) runs it from then on, with the seed corpora.
# A failure that leaves no input is Go's fuzz coordinator racing its own
# -fuzztime deadline ("context deadline exceeded", golang/go#75804, fixed in
# Go 1.27): reported, not counted.
# FUZZMINIMIZETIME: the session target runs a whole session per input, and
# minimizing every new input for the default 60 s would leave little fuzzing.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 1s
FUZZ_PKGS ?= ./rtp ./signaller ./session
fuzz:
	@failed=; for pkg in $(FUZZ_PKGS); do \
	  for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    corpus=$$pkg/testdata/fuzz/$$target; \
	    before=$$(ls $$corpus 2>/dev/null | wc -l); \
	    if ! go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg; then \
	      if [ "$$(ls $$corpus 2>/dev/null | wc -l)" -gt "$$before" ]; then failed="$$failed $$pkg:$$target"; \
	      else echo "fuzz: $$target stopped without a failing input (golang/go#75804), not counted"; fi; \
	    fi; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

# Benchmark tables from tests/cmd/benchtables, printed and written to
# tests/bench/out/<name>.md (see tests/bench/README.md): rtp (the packetizer
# ns/op of `go test -bench ./rtp/`), startup (PLAYING -> first packet), cpu
# (CPU per media-minute vs server-sdk-go), sinks (elements per process),
# gaps (media gap per fault, ~30 min), simulcast (publisher CPU for 1 and 3 layers
# and with dynacast pausing the top one).
# Knobs: BENCH_PARTS, BENCH_RUNS, BENCH_FAULTS, BENCH_STARTUP_RUNS, BENCH_SINKS,
# LIVEKIT_VERSIONS.
BENCH_PARTS ?= rtp,startup,cpu,sinks,gaps,simulcast
bench: plugin
	cd tests && go run ./cmd/benchtables -parts $(BENCH_PARTS)

# An hour of one application process (two elements) against a LiveKit cluster
# with a random fault every 60-120 s; prints and writes the leak and recovery
# table (tests/bench/out/soak.md). make test runs a 5-minute version.
SOAK_DURATION ?= 60m
soak: setup plugin
	mkdir -p tests/bench/out
	cd tests && GLK_SOAK_DURATION=$(SOAK_DURATION) GLK_SOAK_REPORT=$(CURDIR)/tests/bench/out/soak.md \
	  go test -count=1 -v -run '^TestSoak$$' -timeout 0 ./soak/

clean:
	rm -rf $(BUILD)

# --- packaging, viewer (debian/, viewer/) ------------------------------------
# make deb: the .deb from a copy of the source tree (dpkg-buildpackage writes
# next to the tree it builds), into $(BUILD)/deb/. -d: Go is /usr/local/go,
# not a Debian package (debian/README.source).
.PHONY: deb viewer
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	git ls-files -z -co --exclude-standard | \
	  xargs -0 sh -c 'for f; do [ -f "$$f" ] && cp --parents -- "$$f" $(BUILD)/deb/src; done; true' sh
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b -d
	rm -rf $(BUILD)/deb/src
	@ls $(BUILD)/deb/*.deb

viewer:
	scripts/viewer-build.sh
