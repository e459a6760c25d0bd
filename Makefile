# iisd build. `make` builds build/iisd and build/iisd-module.pc;
# `make run` and `make test` also install missing Debian packages first.

.DEFAULT_GOAL := all

BUILD    ?= build
CC       ?= gcc
CXX      ?= g++
PYTHON   ?= /usr/bin/python3
SANITIZE ?=
OPT      ?= -O2

PKGS      = libxml-2.0 zlib libbrotlienc libzstd
# decoders the unit tests check the compressors against
UNIT_PKGS = libbrotlidec
CPPFLAGS += -D_GNU_SOURCE -Isrc -Iinclude $(shell pkg-config --cflags $(PKGS))
CFLAGS   += -std=gnu11 $(OPT) -g -pthread -fvisibility=hidden -fno-strict-aliasing \
            -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
            -Wstrict-prototypes -Wformat=2 $(SANITIZE)
LDFLAGS  += -pthread $(SANITIZE)
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -ldl -lpam -lcrypt -lcrypto

LIB_SRCS  = $(wildcard src/core/*.c src/net/*.c src/http/*.c src/pipeline/*.c src/config/*.c \
                       src/modules/*.c src/modules/*/*.c)
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  = $(BUILD)/obj/src/main.o
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

DEB_DEPS  = gcc g++ make pkg-config libxml2-dev libcmocka-dev python3 python3-pytest libpam0g-dev libcrypt-dev \
            libssl-dev zlib1g-dev libbrotli-dev libzstd-dev strace slowhttptest

# ---- fuzzing (libFuzzer; `make test` runs fuzz-smoke) ----------------------
FUZZ_SECONDS ?= 600
FUZZERS       = parser config chunked range url
FUZZ_CC       = clang
FUZZ_FLAGS    = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -D_GNU_SOURCE -Isrc -Iinclude \
                $(shell pkg-config --cflags $(PKGS))
FUZZ_parser   = src/http/parser.c src/http/tokens.c src/core/arena.c src/core/mem.c
FUZZ_config   = src/config/config.c src/config/schema.c src/config/embedded.c src/core/arena.c src/core/mem.c
FUZZ_chunked  = $(FUZZ_parser)
FUZZ_range    = src/modules/httputil.c
FUZZ_url      = $(FUZZ_parser)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard src/*/*.c src/*/*.h) config/applicationHost.config \
                      config/schema/iisd_schema.xml
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_$*) -o $@ $(shell pkg-config --libs $(PKGS))

fuzz-deps:
	@missing=""; for p in clang libclang-rt-14-dev; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

# Runs one fuzzer ($$f) with the options in $$opts over its corpus (tests/fuzz/corpus/NAME,
# read-only) and its dictionary; new inputs go to the directory $$new, the output to
# $$new.log, a crashing input to $(BUILD)/fuzz/NAME-crash-*. Fails when the fuzzer
# reports anything.
FUZZ_RUN = mkdir -p $$new; \
	  dict=; if [ -f tests/fuzz/$$f.dict ]; then dict=-dict=tests/fuzz/$$f.dict; fi; \
	  if $(BUILD)/fuzz/fuzz_$$f $$dict $$opts -artifact_prefix=$(BUILD)/fuzz/$$f- -print_final_stats=1 \
	       $$new tests/fuzz/corpus/$$f >$$new.log 2>&1; then \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)' $$new.log; \
	  else tail -40 $$new.log; failed="$$failed $$f"; fi

# Each fuzzer for FUZZ_SECONDS, one after the other; what it finds new is kept in
# $(BUILD)/fuzz/corpus-NAME for the next run.
fuzz: fuzz-deps
	$(MAKE) $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	@failed=; for f in $(FUZZERS); do \
	  echo "== fuzz_$$f for $(FUZZ_SECONDS) s"; opts=-max_total_time=$(FUZZ_SECONDS); \
	  new=$(BUILD)/fuzz/corpus-$$f; \
	  $(FUZZ_RUN); \
	done; if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed"; exit 1; fi

# Part of `make test`: every fuzzer over its corpus plus FUZZ_SMOKE_RUNS new inputs.
FUZZ_SMOKE_RUNS ?= 20000
fuzz-smoke: fuzz-deps
	$(MAKE) $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	@failed=; for f in $(FUZZERS); do \
	  echo "== fuzz_$$f: corpus + $(FUZZ_SMOKE_RUNS) runs"; \
	  opts="-runs=$(FUZZ_SMOKE_RUNS) -max_total_time=120 -seed=1"; \
	  new=$(BUILD)/fuzz/smoke-$$f; rm -rf $$new; \
	  $(FUZZ_RUN); \
	done; if [ -n "$$failed" ]; then echo "fuzz-smoke: findings in:$$failed"; exit 1; fi

# ---- memory checking (valgrind) ---------------------------------------------
# The unit tests, and the whole black-box suite with iisd started under valgrind
# (IISD_WRAPPER, see tests/blackbox/iisdtest.py); any memory error or leak fails.
# tests/valgrind.supp holds the few suppressions, for third-party code only. The
# black-box part takes about 15 minutes on 2 cores; VALGRIND_BLACKBOX narrows it to some
# files, e.g. VALGRIND_BLACKBOX=tests/blackbox/test_async.py.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
           --num-callers=30 --suppressions=$(abspath tests/valgrind.supp)
VALGRIND_BLACKBOX ?= tests/blackbox

valgrind-deps:
	@if ! dpkg -s valgrind >/dev/null 2>&1; then \
	  echo "installing: valgrind"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; fi; \
	fi

test-valgrind: deps valgrind-deps
	$(MAKE) all $(UNIT_BINS) modules
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; $(VALGRIND) $$t; done
	IISD_WRAPPER="$(VALGRIND)" IISD_BIN=$(abspath $(BUILD)/iisd) IISD_TEST_MODULES=$(abspath $(BUILD)/tests/modules) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider $(VALGRIND_BLACKBOX)

.PHONY: check-alloc fuzz fuzz-deps fuzz-smoke test-valgrind valgrind-deps all run test test-quick test-asan test-tsan \
        test-suites unit abi api-status config-check modules blackbox conformance deps clean format check-format bench

EXAMPLE_MODULES = $(patsubst examples/modules/%.cpp,$(BUILD)/examples/%.so,$(wildcard examples/modules/*.cpp))

all: $(BUILD)/iisd $(BUILD)/iisd-module.pc $(EXAMPLE_MODULES)

$(BUILD)/examples/%.so: examples/modules/%.cpp $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	@echo "  CXX $<"
	@$(CXX) -std=gnu++17 -shared -fPIC -Wall -Wextra -Werror -Iinclude $(SANITIZE) $< -o $@

# iisd_host_report_event: the Event Log API of include/iisd_winbase.h finds it by name from modules
$(BUILD)/iisd: $(MAIN_OBJ) $(BUILD)/libiisd.a
	$(CC) $(LDFLAGS) -Wl,--export-dynamic-symbol=iisd_host_report_event -o $@ $(MAIN_OBJ) -Wl,--whole-archive $(BUILD)/libiisd.a -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/libiisd.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/iisd-module.pc: iisd-module.pc.in
	@mkdir -p $(BUILD)
	sed 's|@INCLUDEDIR@|$(abspath include)|' $< > $@

# the configuration files the binary embeds
$(BUILD)/obj/src/config/embedded.o: config/applicationHost.config config/schema/iisd_schema.xml

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)

# ---- set-up -------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

RUN_ARGS ?=
run: deps
	$(MAKE) all
	$(BUILD)/iisd --path examples/site --port 8080 $(RUN_ARGS)

# ---- tests --------------------------------------------------------------
# make test: every suite on the normal build, then again under the sanitizers and valgrind.
# make test-quick: the normal build only (about 5 minutes), for the edit-compile-test loop.
test: deps
	$(MAKE) test-quick
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) test-valgrind

test-quick: deps
	$(MAKE) all
	$(MAKE) unit abi api-status config-check modules
	$(MAKE) blackbox conformance
	$(MAKE) fuzz-smoke
	$(MAKE) check-alloc

test-asan: deps
	$(MAKE) BUILD=build-asan OPT=-O1 SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test-suites

# ThreadSanitizer: data races between the server's threads (loop owners, takeover spares, and the
# module threads that complete requests). Any report fails the black-box test that caused it.
test-tsan: deps
	$(MAKE) BUILD=build-tsan OPT=-O1 SANITIZE="-fsanitize=thread -fno-omit-frame-pointer" test-suites

test-suites: all
	$(MAKE) unit abi api-status config-check modules
	$(MAKE) blackbox conformance

api-status:
	$(PYTHON) tools/api_status.py --require-conformance --check docs/api-status.md

config-check:
	$(PYTHON) config/check_config.py --schema config/schema/iisd_schema.xml config/applicationHost.config
	$(PYTHON) config/test_check_config.py
	$(PYTHON) config/schema_doc.py --check

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libiisd.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libiisd.a $(LDFLAGS) $(LDLIBS) \
	  $(shell pkg-config --libs $(UNIT_PKGS)) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

abi:
	@BUILD=$(abspath $(BUILD)) bash tests/abi/run.sh

# Built-in modules built alone as .so images (the black-box suite loads one through <globalModules>).
SO_MODULES = $(BUILD)/modules/http_redirection.so

$(BUILD)/modules/%.so: src/modules/%.c src/modules/modcfg.c $(wildcard src/modules/*.h include/*.h)
	@mkdir -p $(dir $@)
	@echo "  SO  $@"
	@$(CC) -DIISD_MODULE_SO -Isrc -Iinclude -std=gnu11 $(OPT) -g -shared -fPIC -fvisibility=hidden \
	  -Wall -Wextra -Werror $(SANITIZE) $< src/modules/modcfg.c -o $@

modules: $(SO_MODULES)
	bash tests/modules/build.sh $(BUILD)/tests/modules

blackbox:
	IISD_BIN=$(abspath $(BUILD)/iisd) IISD_TEST_MODULES=$(abspath $(BUILD)/tests/modules) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/blackbox

# Counts heap allocations per warm request with an LD_PRELOAD shim (not in sanitizer
# builds: their runtimes own malloc).
$(BUILD)/tests/alloccount.so: tests/alloc/alloccount.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

check-alloc: all $(BUILD)/tests/alloccount.so
	$(PYTHON) tests/alloc/check_alloc.py $(BUILD)

# The conformance suite: one check per documented method (docs/conformance-suite.md).
conformance: all
	bash tests/modules/build.sh $(BUILD)/tests/conformance tests/conformance
	$(PYTHON) tests/conformance/run.py --iisd $(BUILD)/iisd --modules $(BUILD)/tests/conformance \
	  --json $(BUILD)/conformance.json

# ---- housekeeping -------------------------------------------------------
format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' '*.cpp')

bench: all
	bench/run

clean:
	rm -rf build build-asan build-tsan
