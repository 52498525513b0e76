# perch — hand-written GNU Makefile.
#
#   make            build ./perch
#   make demo       set up what is missing, build, run the demo on the simulator
#   make test       set up what is missing, build, run every test
#   make check      the whole test suite under AddressSanitizer + UBSan
#   make tsan       the whole test suite under ThreadSanitizer
#   make valgrind   every unit test binary under valgrind (no errors, no leaks)
#   make lint       dependency rules, cppcheck, function length, whitespace
#   make fuzz       build the libFuzzer targets, run each (FUZZ_TIME s), report coverage
#   make bench      build and run the benchmarks (they print figures)
#   make install / uninstall   (PREFIX, DESTDIR); also the kubectl plugin link kubectl-perch
#   make deps       check and install the libraries and tools everything needs
#
# Objects go to $(BUILD) (build/release by default), so sanitizer builds never
# mix with the normal one.  V=1 prints full commands.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/perch
PKG_CONFIG ?= pkg-config
CC         ?= cc
BUILD      ?= build/release
SANITIZE   ?=

# libcurl's headers are needed to build; the library is not linked but
# loaded at run time by the first network client (net/curl_lazy.c).
PKGS      := ncursesw libcurl jansson yaml-0.1 libcrypto
LINK_PKGS := ncursesw jansson yaml-0.1 libcrypto
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -DPERCH_VERSION='"$(VERSION)"' -DPERCH_DATADIR='"$(DATADIR)"' -I.
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANITIZE) $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lpthread -lm -ldl

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

# Every .c under the code folders is part of the program; main.c alone is not
# part of the library the tests link against.  A folder inside another
# (app/cmd/, k8s/routers/) is listed on its own.
CODE_DIRS := util app app/cmd spec engine store metrics k8s k8s/routers net sim tui
SRC       := $(foreach d,$(CODE_DIRS),$(wildcard $(d)/*.c))
LIB_SRC   := $(filter-out app/main.c,$(SRC))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/app/main.o
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_OBJ  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%.o)
HELPER_SRC := $(wildcard tests/unit/helper_*.c)
HELPER_OBJ := $(HELPER_SRC:tests/unit/%.c=$(BUILD)/tests/%.o)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

ifeq ($(BUILD),build/release)
BIN := perch
else
BIN := $(BUILD)/perch
endif

.SECONDARY:

.PHONY: all demo test test-run soak-smoke check tsan valgrind lint fuzz bench install uninstall deps clean unit-tests

all: $(BIN)

$(BIN): $(MAIN_OBJ) $(BUILD)/libperch.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(MAIN_OBJ) $(BUILD)/libperch.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/libperch.a: $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(LIB_OBJ)

$(BUILD)/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(HELPER_OBJ) $(BUILD)/libperch.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(HELPER_OBJ) $(BUILD)/libperch.a $(LDFLAGS) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libperch.a
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libperch.a $(LDFLAGS) $(LDLIBS)

unit-tests: $(BIN) $(TEST_BIN)

deps:
	@bash .ci/deps all

demo: deps-build
	@$(MAKE) --no-print-directory all
	./perch demo

.PHONY: deps-build deps-test
deps-build:
	@bash .ci/deps build
deps-test:
	@bash .ci/deps test

# The test targets build on every core first (NPROC), then run the tests:
# the runner is not started by a parallel make, so the scripts that call make
# themselves see no jobserver.
NPROC := $(shell nproc 2>/dev/null || echo 2)

# Integration scripts mostly wait on servers, terminals and simulated time:
# `make test` runs twice as many at once as there are cores.  Under the
# sanitizers each one burns several times the CPU, so check and tsan run one
# per core.  PERCH_TEST_JOBS overrides both.
test: deps-test
	@$(MAKE) --no-print-directory -j$(NPROC) unit-tests
	@PERCH_TEST_JOBS=$${PERCH_TEST_JOBS:-$$(( $(NPROC) * 2 ))} $(MAKE) --no-print-directory test-run

# The runner: every unit test binary, then every integration script.
test-run: unit-tests
	@PERCH_BIN=$(abspath $(BIN)) PERCH_BUILD=$(abspath $(BUILD)) bash tests/run

# Two minutes of bench/soak with faults, kills and every invariant checked
# (tests/soak/soak_smoke.sh): a gate of .ci/run, outside `make test`.
soak-smoke: $(BIN)
	@PERCH_BIN=$(abspath $(BIN)) PERCH_BUILD=$(abspath $(BUILD)) \
		PERCH_TEST_SCRIPTS=$(abspath tests/soak) TESTS=soak_smoke bash tests/run

# Under a sanitizer the tests' own timeouts (a server's delay against a
# client's timeout) are scaled: PERCH_TEST_TIMEOUT_SCALE, 2 under ASan, 3
# under TSan, 8 under valgrind.
ASAN_VARS := BUILD=build/asan CFLAGS="-O1 -g" \
	SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
TSAN_VARS := BUILD=build/tsan CFLAGS="-O1 -g" SANITIZE="-fsanitize=thread" PERCH_TSAN=1

check:
	@$(MAKE) --no-print-directory -j$(NPROC) $(ASAN_VARS) unit-tests
	@PERCH_TEST_TIMEOUT_SCALE=$${PERCH_TEST_TIMEOUT_SCALE:-2} PERCH_TEST_JOBS=$${PERCH_TEST_JOBS:-$(NPROC)} \
		$(MAKE) --no-print-directory $(ASAN_VARS) test-run

tsan:
	@$(MAKE) --no-print-directory -j$(NPROC) $(TSAN_VARS) unit-tests
	@PERCH_TEST_TIMEOUT_SCALE=$${PERCH_TEST_TIMEOUT_SCALE:-3} PERCH_TEST_JOBS=$${PERCH_TEST_JOBS:-$(NPROC)} \
		$(MAKE) --no-print-directory $(TSAN_VARS) test-run

# Every unit test binary under valgrind's memcheck: no errors, no leaks.
valgrind: unit-tests
	@PERCH_BUILD=$(abspath $(BUILD)) bash tests/valgrind.sh

# The circles of calls between files are read from the library's objects.
lint: $(LIB_OBJ)
	@PERCH_LINT_OBJS="$(LIB_OBJ)" bash tests/lint.sh

# Seconds each fuzz target runs (16 targets: about 8.5 minutes by default).
FUZZ_TIME ?= 30
fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_TIME)

bench: $(BIN) $(BENCH_BIN)
	@PERCH_BIN=$(abspath $(BIN)) PERCH_BUILD=$(abspath $(BUILD)) bash bench/run.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/perch
	ln -sf perch $(DESTDIR)$(BINDIR)/kubectl-perch
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(if $(wildcard man/*.5),install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/)
	$(if $(wildcard themes/*.yaml),install -d $(DESTDIR)$(DATADIR)/themes && install -m 644 themes/*.yaml $(DESTDIR)$(DATADIR)/themes/)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/perch $(DESTDIR)$(BINDIR)/kubectl-perch
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build perch

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(HELPER_OBJ:.o=.d)
