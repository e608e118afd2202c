# sockgate — top-level build.
#
#   make            build/sockgate (release, -O2)
#   make asan       build/asan/sockgate (ASan + UBSan, used by the tests)
#   make check      install what is missing, then make test (CI runs this)
#   make test       both compilers, unit tests, fuzz-corpus regression, end-to-end
#   make demo       install, build, start a private dockerd with sockgate in front
#   make unit       unit tests only (ASan + UBSan)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each (clang)
#   make bench      benchmark against a private dockerd (not part of CI)
#   make CC=clang   everything builds warning-free with gcc and clang
#
# Sources are discovered by wildcard: a new src/<area>/<file>.c is built
# without touching this file. src/main.c is the only file outside the
# library that the unit tests and fuzzers link.

CC      ?= cc
# V=1 shows full compiler command lines.
Q       := $(if $(V),,@)
PKGS    := libuv jansson libcurl libnghttp2
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' -Isrc \
           $(shell pkg-config --cflags $(PKGS)) $(WARN)
LDLIBS  := $(shell pkg-config --libs $(PKGS))
OPT     ?= -O2 -g
SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

LIB_SRC  := $(sort $(wildcard src/*/*.c))
MAIN_SRC := src/main.c
HDRS     := $(wildcard src/*.h src/*/*.h src/*/*.def)

B        := build
REL_OBJ  := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRC) $(MAIN_SRC))
ASAN_OBJ := $(patsubst src/%.c,$(B)/asan-obj/%.o,$(LIB_SRC))
ASAN_MAIN:= $(B)/asan-obj/main.o

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB := $(patsubst src/%.c,$(B)/fuzz-obj/%.o,$(LIB_SRC))
FUZZ_SECONDS ?= 60

.PHONY: all asan unit fuzz-build fuzz fuzz-regress test e2e bench clean check demo deps command-table registry-tests deploy-test install uninstall \
        compilers
all: $(B)/sockgate

$(B)/sockgate: $(REL_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) -c -o $@ $<

asan: $(B)/asan/sockgate
$(B)/asan/sockgate: $(ASAN_OBJ) $(ASAN_MAIN)
	@mkdir -p $(dir $@)
	@echo "  LD/SAN  $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(B)/asan-obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC/SAN  $<"
	$(Q)$(CC) $(CFLAGS_BASE) $(SAN) -c -o $@ $<

# ---- unit tests: one binary per tests/unit/test_*.c, ASan + UBSan --------
$(B)/unit/%: tests/unit/%.c tests/unit/unit.h $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_BASE) -Itests/unit $(SAN) -o $@ $< $(ASAN_OBJ) $(LDLIBS)

unit: $(UNIT_BIN)
	@tests/unit/run-all $(UNIT_BIN)

# ---- fuzzing: clang libFuzzer targets -----------------------------------
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' -Isrc \
               $(shell pkg-config --cflags $(PKGS)) $(WARN) -g -O1 \
               -fsanitize=fuzzer-no-link,address,undefined
$(B)/fuzz-obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $<"
	$(Q)clang $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

# Keep the instrumented library objects between fuzz links.
.SECONDARY: $(FUZZ_LIB)

fuzz-build: $(FUZZ_BIN)

# Regression: replay every corpus file once (no mutation). Part of `make test`.
fuzz-regress: $(FUZZ_BIN)
	@tests/fuzz/regress $(FUZZ_BIN)

# Exploration: FUZZ_SECONDS per target, new finds are added to the corpus.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p tests/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 tests/corpus/$$n || exit 1; done

# ---- end to end ---------------------------------------------------------
e2e: $(B)/sockgate $(B)/asan/sockgate
	@tests/e2e/run

# The bench's tools: single-file programs that bench/run and
# bench/profile-stream build through these rules (one recipe, and the
# header they share as a dependency). Stricter than the library: an unused
# parameter warns. The tenants section runs some inside busybox containers,
# which have no libc of their own: those are built static (NAME-static).
BENCH_TOOLS  := loadgen floor chunkpeek timeit
BENCH_CFLAGS := -std=c17 -D_GNU_SOURCE -O2 -g $(filter-out -Wno-unused-parameter,$(WARN))
$(B)/bench/%-static: bench/%.c bench/unix_addr.h
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(CC) $(BENCH_CFLAGS) -static -o $@ $<
$(B)/bench/%: bench/%.c bench/unix_addr.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $<

# The compiler matrix: the library and the gate build warning-free with
# both gcc and clang (into a scratch directory, nothing is installed).
# The test bed's Ryuk (testbed/reaper.c, built static by testbed/up) too,
# and the bench's tools, which only `make bench` runs: CI keeps them building.
REAPER_FLAGS := -std=c17 -D_GNU_SOURCE -O2 $(WARN) -static -Isrc
compilers:
	@for cc in gcc clang; do echo "== $$cc"; \
	  $(MAKE) --no-print-directory B=$(B)/cc-$$cc CC=$$cc $(B)/cc-$$cc/sockgate \
	    $(foreach t,$(BENCH_TOOLS),$(B)/cc-$$cc/bench/$(t)) || exit 1; \
	  echo "  CC      testbed/reaper.c ($$cc)"; \
	  $$cc $(REAPER_FLAGS) -o $(B)/cc-$$cc/ryuk testbed/reaper.c || exit 1; done

# The command → route table must match spec/cli-api-map.tsv and cover every
# route of the route table.
command-table:
	@tools/check-command-table

# The registry client against Debian's docker-registry (anonymous, htpasswd,
# token auth), through `sockgate digest`.
registry-tests: $(B)/asan/sockgate
	@SOCKGATE_BIN=$(abspath $(B)/asan/sockgate) tests/registry/run

# The README's deployment section, in a private root directory.
deploy-test: $(B)/sockgate
	@tests/deploy/run

test: compilers command-table unit fuzz-regress registry-tests deploy-test e2e

# The two commands of the README: both install what is missing first, then
# re-enter make so that pkg-config sees the freshly installed libraries.
deps:
	@testbed/install-deps
check: deps
	@$(MAKE) --no-print-directory test
demo: deps
	@$(MAKE) --no-print-directory $(B)/sockgate
	@testbed/demo

bench: $(B)/sockgate
	@bench/run

# ---- install (PREFIX, DESTDIR) ---------------------------------------------
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= /etc/systemd/system
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man/man8
UNITS      := sockgate.socket sockgate-restricted.socket sockgate.service

install: $(B)/sockgate
	install -D -m 0755 $(B)/sockgate $(DESTDIR)$(BINDIR)/sockgate
	install -D -m 0644 dist/sockgate.8 $(DESTDIR)$(MANDIR)/sockgate.8
	@# An existing policy is the administrator's: never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/sockgate/admin-settings.json || \
	    install -D -m 0644 dist/admin-settings.json $(DESTDIR)$(SYSCONFDIR)/sockgate/admin-settings.json
	install -d $(DESTDIR)$(UNITDIR)/docker.socket.d
	for u in $(UNITS); do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/systemd/$$u \
	        >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 dist/systemd/docker.socket.d/sockgate.conf $(DESTDIR)$(UNITDIR)/docker.socket.d/sockgate.conf

# The policy file and the state directory are left: they are the
# administrator's data, not the program's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockgate $(DESTDIR)$(MANDIR)/sockgate.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(UNITDIR)/docker.socket.d/sockgate.conf
	-rmdir $(DESTDIR)$(UNITDIR)/docker.socket.d 2>/dev/null

clean:
	rm -rf $(B)
