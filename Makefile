# convbench: build, test, bench and report targets.
#
#   make               build/libconv.a and build/convbench
#   make check         unit tests, then every shipped suite through check
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make bench         the default sweep, then its plots
#   make install       PREFIX=/usr/local DESTDIR=
#   V=1                show the commands

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CXX     ?= g++

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS =
endif

ifneq ($(V),1)
Q = @
endif

PKGS     = openblas fftw3f
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
GB_LIBS    := $(shell pkg-config --libs benchmark 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
OPT      = -O3 -g
CPPFLAGS += -Ialgorithms -Ireference -Iharness $(PKG_CFLAGS) -MMD -MP
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) -fopenmp \
            $(SANFLAGS)
CXXFLAGS += -std=c++17 $(OPT) -Wall -Wextra -fopenmp $(SANFLAGS)
# Kernels whose file name ends in _avx2 are compiled for AVX2 + FMA and
# chosen at run time; everything else stays portable x86-64.
AVX2FLAGS = -mavx2 -mfma
LDLIBS   = $(PKG_LIBS) -ldnnl $(GB_LIBS) -lstdc++ -lm
LDFLAGS += -fopenmp $(SANFLAGS)

LIB_SRC  = $(wildcard algorithms/*.c)
REF_SRC  = $(wildcard reference/*.c)
HAR_SRC  = $(filter-out harness/main.c,$(wildcard harness/*.c))
HAR_CXX  = $(wildcard harness/*.cc)
TEST_SRC = $(wildcard tests/test_*.c)

obj = $(patsubst %,$(BUILD)/%.o,$(basename $(1)))
LIB_OBJ  = $(call obj,$(LIB_SRC))
REF_OBJ  = $(call obj,$(REF_SRC))
HAR_OBJ  = $(call obj,$(HAR_SRC) $(HAR_CXX))
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

LIBCONV  = $(BUILD)/libconv.a
LIBREF   = $(BUILD)/libconvref.a
LIBHAR   = $(BUILD)/libconvharness.a
CONVBENCH = $(BUILD)/convbench

# Build the library and the command.
all: $(LIBCONV) $(CONVBENCH)

$(LIBCONV): $(LIB_OBJ)
	$(Q)ar rcs $@ $^
$(LIBREF): $(REF_OBJ)
	$(Q)ar rcs $@ $^
$(LIBHAR): $(HAR_OBJ)
	$(Q)ar rcs $@ $^

$(CONVBENCH): $(BUILD)/harness/main.o $(LIBHAR) $(LIBREF) $(LIBCONV)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX2FLAGS) -c -o $@ $<
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# Every test binary also links the shared test helpers, tests/util.c.
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/util.o $(LIBHAR) \
                  $(LIBREF) $(LIBCONV)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

# Install missing Debian packages (as root) or say how.
deps:
	$(Q)sh harness/deps.sh

# Unit tests, then every shipped suite through `convbench check`.
check: deps
	$(Q)$(MAKE) --no-print-directory all-tests
	$(Q)sh tests/run.sh $(BUILD)

all-tests: all $(TESTS)

# The longer correctness sweep: every suite at benchdnn's batch of 2.
check-long: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/run.sh $(BUILD) long

# The default sweep (ResNet-50 batch 1 and the sweeps), then its plots.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(CONVBENCH) bench --suite default --out results/default
	$(Q)$(CONVBENCH) plot results/default.csv

# Install the library, the header and the command.
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/convbench/suites \
	    $(DESTDIR)$(PREFIX)/share/convbench/plots
	install -m 644 $(LIBCONV) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 algorithms/conv.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(CONVBENCH) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 harness/suites/* $(DESTDIR)$(PREFIX)/share/convbench/suites/
	install -m 644 harness/plots/* $(DESTDIR)$(PREFIX)/share/convbench/plots/

# Remove everything the build wrote.
clean:
	rm -rf build build-san

.PHONY: all deps check all-tests check-long bench install clean
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
