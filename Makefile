# Diffusion from Scratch in Swift — the two commands of the README.
#
#   make demo   install missing system packages, build in release, run the chapters that finish in minutes
#   make test   install missing system packages, run the test suite (release build, a few minutes)
#
# Other targets: make build, make bench, make fixtures (needs python3 + torch), make clean,
# make fuzz FUZZ_MINUTES=10 (libFuzzer on the IDX, PNG and safetensors readers).
# make bench-avx2 / make test-avx2 build for x86-64-v3 (AVX2 + FMA, no AVX-512) in .build-avx2
# and run the benchmarks / the test suite there (the AVX2 code path, on any x86-64 machine with AVX2;
# bench-avx2 limits numpy's and PyTorch's kernels to AVX2 too). BENCH_ARGS="unet sample" picks sections.

SWIFT      ?= swift
APT_PKGS   := libpng-dev libgif-dev pkg-config zlib1g-dev dataset-fashion-mnist
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Chapters that finish in minutes with their defaults, in reading order; Chapter 6 samples
# from its committed model instead of training (about 3 minutes on 2 cores).
DEMO_CHAPTERS := Chapter01-Clusters Chapter02-Schedules Chapter03-Forward Chapter04-MLPDenoiser Chapter05-UNet \
                 "Chapter06-FashionMNIST --sample-only" Chapter09-ScoreMatching
TEST_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: demo test build bench bench-avx2 test-avx2 deps fixtures clean fuzz

## Install the Debian packages that are missing (apt-get update only when something is missing).
deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "error: missing packages:$$missing, and no apt-get here; install libpng, giflib and pkg-config by hand."; exit 1; \
	  fi; \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null \
	    || { echo "error: apt-get could not install$$missing; run it by hand and retry."; exit 1; }; \
	fi

build: deps
	$(SWIFT) build -c release

demo: build
	@for c in $(DEMO_CHAPTERS); do \
	  echo ""; echo "=== $$c ==="; \
	  ./.build/release/$$c || exit 1; \
	done; \
	echo ""; echo "Figures are in output/<chapter>/ (e.g. output/Chapter03-Forward/cat_noised.png)."

test: deps
	$(SWIFT) build $(TEST_FLAGS)
	$(SWIFT) test $(TEST_FLAGS)

bench: build
	./.build/release/Benchmarks $(BENCH_ARGS)

## The AVX2 build (TINYTENSOR_MARCH is read by Package.swift), in its own scratch folder.
AVX2 := TINYTENSOR_MARCH=x86-64-v3
AVX2_SCRATCH := --scratch-path .build-avx2

## The references limited to AVX2 as well (PyTorch's ATen and oneDNN kernels, MKL, OpenBLAS), so
## that an AVX-512 machine compares like with like; the benchmark prints the ISA each one ran.
AVX2_REFERENCES := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell

bench-avx2: deps
	$(AVX2) $(SWIFT) build -c release $(AVX2_SCRATCH)
	$(AVX2_REFERENCES) ./.build-avx2/release/Benchmarks $(BENCH_ARGS)

test-avx2: deps
	$(AVX2) $(SWIFT) build $(TEST_FLAGS) $(AVX2_SCRATCH)
	$(AVX2) $(SWIFT) test $(TEST_FLAGS) $(AVX2_SCRATCH)

## Regenerate the PyTorch fixtures (maintainers only; tests never need Python).
fixtures:
	@for s in $$(find Tests -name 'make_*fixture*.py'); do echo "python3 $$s"; python3 $$s || exit 1; done

clean:
	rm -rf .build .build-fuzz .build-avx2

## Fuzz the three readers with libFuzzer (Swift's -sanitize=fuzzer), FUZZ_MINUTES each, one
## after the other at the lowest priority. Crashing inputs land in Fuzz/crashes/; the corpus
## grows in .build-fuzz/corpus/. Separate scratch path: normal builds never see this target.
FUZZ_MINUTES ?= 10
FUZZ_READERS ?= idx png safetensors
FUZZ_FLAGS   ?= -rss_limit_mb=1536 -max_len=65536 -timeout=20
fuzz: deps
	DIFFUSION_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --product FuzzReaders -Xswiftc -sanitize=fuzzer
	@mkdir -p Fuzz/crashes; for r in $(FUZZ_READERS); do \
	  mkdir -p .build-fuzz/corpus/$$r && cp Fuzz/corpus/$$r/* .build-fuzz/corpus/$$r/ && \
	  echo "=== fuzzing $$r for $(FUZZ_MINUTES) min ===" && \
	  FUZZ_READER=$$r nice -n 19 .build-fuzz/release/FuzzReaders .build-fuzz/corpus/$$r \
	    -max_total_time=$$(( $(FUZZ_MINUTES) * 60 )) -artifact_prefix=Fuzz/crashes/$$r- $(FUZZ_FLAGS) \
	    || exit 1; \
	done
