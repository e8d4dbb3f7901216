# The fuzz targets, built with clang and libFuzzer whatever CC configure
# chose. GNU make; run from the build directory by `make fuzz` (see
# tests/fuzz/Makefile.inc), which passes:
#   top_srcdir  FUZZ_CC  AR  FUZZ_CPPFLAGS  FUZZ_CFLAGS  FUZZ_LIBS
#   GMVM_SOURCES (libgmvm's sources)  FUZZ_TARGETS (fuzz_virtqueue ...)
#
# Every source of libgmvm is compiled again, instrumented for coverage and
# with AddressSanitizer and UndefinedBehaviorSanitizer, into
# tests/fuzz/libgmvm-fuzz.a: the targets run gmvm's own code. The KVM calls
# devices make, and the opening of a tap, go to the harness through their
# host (see harness.h): nothing is replaced at link time.

FUZZ_DIR := tests/fuzz
OBJ_DIR := $(FUZZ_DIR)/obj
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS_ALL := -std=gnu11 -g -O1 -fno-omit-frame-pointer -pthread \
	$(SANITIZE) -fsanitize=fuzzer-no-link $(FUZZ_CFLAGS)
CPPFLAGS_ALL := $(FUZZ_CPPFLAGS) -I$(top_srcdir)/tests/fuzz

LIB_OBJS := $(patsubst %.c,$(OBJ_DIR)/%.o,$(filter %.c,$(GMVM_SOURCES)))
LIB := $(FUZZ_DIR)/libgmvm-fuzz.a
HARNESS := $(OBJ_DIR)/tests/fuzz/harness.o
BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

all: $(BINS) $(FUZZ_DIR)/mkseeds

$(OBJ_DIR)/%.o: $(top_srcdir)/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC   $@"
	@$(FUZZ_CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@echo "  AR       $@"
	@rm -f $@ && $(AR) rcs $@ $^

$(BINS): $(FUZZ_DIR)/%: $(OBJ_DIR)/tests/fuzz/%.o $(HARNESS) $(LIB)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# The seed generator: the same objects, its own main().
$(FUZZ_DIR)/mkseeds: $(OBJ_DIR)/tests/fuzz/mkseeds.o \
		$(OBJ_DIR)/tests/fuzz/mkseeds_virtio.o $(HARNESS) $(LIB)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(CFLAGS_ALL) -o $@ $^ $(FUZZ_LIBS)

-include $(LIB_OBJS:.o=.d) $(wildcard $(OBJ_DIR)/tests/fuzz/*.d)

.PHONY: all
