# Cairn — the two commands a newcomer needs are `make run` and `make test`.
.PHONY: all run test build debug fuzz bench deps clean format tidy package

JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:9092
DATA_DIR ?= ./data

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

# Runs the broker in the foreground on $(LISTEN) with data in $(DATA_DIR); Ctrl-C stops it.
run: build
	build/release/cairn serve --listen $(LISTEN) --data-dir $(DATA_DIR)

# The Debian package build/release/cairn_VERSION_ARCH.deb (docs/install.md).
package: build
	@cd build/release && cpack -G DEB

# Installs deps, builds (ASan+UBSan debug, release and fuzz builds), runs every test.
test: deps
	@scripts/run-tests.sh

bench: build
	@scripts/run-bench.sh

tidy:
	@python3 tools/tidy/tidy.py

format:
	@find src tools bench tests -name '*.h' -o -name '*.cc' | grep -v /generated/ | xargs clang-format -i

clean:
	rm -rf build
