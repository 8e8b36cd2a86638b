# govchain: the two commands of the README, and the pieces they are made of.
#
#   make demo    install what is missing, build, and run a four-department network
#                (govchain localnet; Ctrl-C stops it)
#   make tour    the command-line tour of keys, genesis and signature speed
#   make check   install what is missing, build, and run the whole test suite:
#                the tests with -Werror, again under AddressSanitizer and
#                UndefinedBehaviorSanitizer, and the fuzz targets with libFuzzer
#
# Build trees: build/ (release with debug info), build-asan/, build-fuzz/ (clang).

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 15
CTEST = ctest --output-on-failure --timeout 600 -j $(JOBS)

.PHONY: all deps build demo tour check test test-asan test-fuzz fuzz fuzz-corpus clean

all: build

deps:
	./scripts/install-deps.sh
	@# playwright-core for the browser tests, at the version package-lock.json pins
	@if [ ! -d tests/browser/node_modules/playwright-core ] || \
	    [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then \
	    cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; fi

build: deps
	cmake -S . -B build -DGOVCHAIN_WERROR=ON >/dev/null
	cmake --build build -j $(JOBS)

demo: build
	build/govchain localnet --dir localnet

tour: build
	./scripts/tour.sh build/govchain

test: build
	cd build && $(CTEST)

test-asan: deps
	cmake -S . -B build-asan -DGOVCHAIN_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
	      -DGOVCHAIN_SANITIZE=address,undefined >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST)

# Builds the libFuzzer targets, replays their corpus, then fuzzes each for
# FUZZ_SECONDS (new inputs go to a scratch corpus, not the committed one).
test-fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DGOVCHAIN_WERROR=ON -DGOVCHAIN_FUZZ=ON \
	      -DGOVCHAIN_SANITIZE=address,undefined >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
	cd build-fuzz && $(CTEST) -R fuzz-replay
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

check: test test-asan test-fuzz

fuzz: FUZZ_SECONDS = 300
fuzz: test-fuzz

fuzz-corpus: build
	cmake --build build --target make_corpus
	build/make_corpus tests/fuzz/corpus

clean:
	rm -rf build build-asan build-fuzz
