# backrest: the worker binary, its engine, the PostgreSQL extension (PGXS, in extension/),
# and every test. `make demo` and `make check` install their own dependencies first.

PG_CONFIG ?= pg_config
PREFIX    ?= /usr/local
BUILD     ?= build
NPROC     := $(shell nproc 2>/dev/null || echo 2)

CXX       ?= g++
CXXFLAGS  ?= -O2 -g
CXXFLAGS  += -std=c++20 -Wall -Wextra -Werror -pthread -fPIC -MMD -MP
CPPFLAGS  += -I. -Isrc -I$(shell $(PG_CONFIG) --includedir)
LDLIBS    += -L$(shell $(PG_CONFIG) --libdir) -lpq -lzstd -llz4 -lxxhash -lsimdjson -lcurl -lpugixml -lssh2 -lcrypto -lfmt -pthread

ENGINE_SRC := $(wildcard src/common/*.cpp src/io/*.cpp src/storage/*.cpp src/storage/*/*.cpp src/repo/*.cpp \
                         src/pg/*.cpp src/protocol/*.cpp src/crypto/*.cpp src/command/*/*.cpp)
WORKER_SRC := $(wildcard worker/*.cpp)
UNIT_SRC   := $(wildcard test/unit/*.cpp)

ENGINE_OBJ := $(ENGINE_SRC:%.cpp=$(BUILD)/%.o)
WORKER_OBJ := $(WORKER_SRC:%.cpp=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.cpp=$(BUILD)/%.o)
# The worker's commands without its main(), so the unit tests can call them.
WORKER_LIB_OBJ := $(filter-out $(BUILD)/worker/main.o,$(WORKER_OBJ))

.PHONY: all worker extension install install-worker check installcheck unit integration demo bench deps clean format \
        coverage

all: worker extension

worker: $(BUILD)/backrest

$(BUILD)/libbackrest.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/backrest: $(WORKER_OBJ) $(BUILD)/libbackrest.a
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libbackrest-worker.a: $(WORKER_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libbackrest-worker.a $(BUILD)/libbackrest.a
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main $(LDLIBS)

# The manifest at scale (issue 4): bench/manifest_scale.cpp.
$(BUILD)/manifest-scale: $(BUILD)/bench/manifest_scale.o $(BUILD)/libbackrest.a
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -c -o $@ $<

extension:
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG)

install: install-worker
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG) install

install-worker: $(BUILD)/backrest
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/backrest $(DESTDIR)$(PREFIX)/bin/backrest
	@# spool-path's default, where the daemon (run as postgres) gathers streamed WAL; best effort:
	@# without it the stream is off, with a warning naming spool-path, and WAL goes from pg_wal.
	-install -d -m 0770 $(if $(shell id -u postgres 2>/dev/null),-o postgres -g postgres) $(DESTDIR)/var/spool/backrest

deps:
	@scripts/install-deps.sh

# Every test; the last line of the output is "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(BUILD)/unit-tests
	@test/run-all.sh $(BUILD)

# The extension's pg_regress suite on a temporary instance (needs root: installs the extension).
installcheck: all
	@test/regress.sh $(BUILD)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@$(MAKE) --no-print-directory install
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(BUILD)/manifest-scale
	@bench/run

# Line coverage of src/, worker/ and extension/ over every test (issue 19): a --coverage build in
# build-cov, the unit tests and test/run-all.sh on it, then lcov; prints one line per directory
# and the HTML report's path. Not part of `make check` (it runs every suite once more).
coverage: deps
	@scripts/coverage.sh

# Rewrites every C++ file to .clang-format; `make check` fails while one differs.
format: deps
	@git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i --style=file

clean:
	rm -rf $(BUILD)
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG) clean

-include $(ENGINE_OBJ:.o=.d) $(WORKER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BUILD)/bench/manifest_scale.d
