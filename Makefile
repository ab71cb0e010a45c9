# erpsync — the only entry point a person needs.
#
#   make            build every library and binary into build/ (SANITIZE=1: ASan+UBSan into build/san/)
#   make deps       install build and run dependencies on Debian 12 (apt-get; idempotent)
#   make run        everything in the foreground: local Kafka + PostgreSQL, services, sandbox peers
#   make up / down  the same in the background / stop it
#   make test       unit + integration tests (own Kafka/PostgreSQL instance); ends "N passed, N failed"
#   make bench      benchmarks (see docs/benchmarks.md)

CC      ?= gcc
PKGS    := rdkafka libprotobuf-c libcurl libpq libmicrohttpd jansson libcrypto
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wformat-security -Wvla -Wundef -Wcast-align \
           -Wwrite-strings -Wnull-dereference -Wdouble-promotion -Wimplicit-fallthrough
CSTD    := -std=c17 -D_GNU_SOURCE
OPT     ?= -O2 -g

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else
BUILD   ?= build
LDSAN   :=
endif

GEN      := build/gen
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CSTD) $(OPT) $(WARN) -I. -Icommon -I$(GEN) $(PKG_CFLAGS) -MMD -MP
# Generated protobuf code is not ours to keep warning-clean under every flag.
GENFLAGS := $(CSTD) $(OPT) -I$(GEN) $(PKG_CFLAGS) -w
LDLIBS  += $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(LDSAN)

# ---- message contract -------------------------------------------------------------------------
PROTOS    := $(sort $(wildcard proto/erpsync/v1/*.proto))
PROTO_C   := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H   := $(PROTO_C:.c=.h)
PROTO_OBJ := $(patsubst $(GEN)/%.c,$(BUILD)/gen/%.o,$(PROTO_C))

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $<

$(BUILD)/gen/%.o: $(GEN)/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(GENFLAGS) -c -o $@ $<

$(BUILD)/libproto.a: $(PROTO_OBJ)
	$(AR) rcs $@ $^

# ---- common library ----------------------------------------------------------------------------
COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC))

$(BUILD)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^

LIBS := $(BUILD)/libcommon.a $(BUILD)/libproto.a

# ---- programs: one folder each, every .c in it linked with the libraries -------------------------
# services/<name>/ -> $(BUILD)/bin/<name>; tools/<name>/ -> $(BUILD)/bin/<name>
PROGRAM_DIRS := $(sort $(dir $(wildcard services/*/main.c tools/*/main.c)))
PROGRAMS     := $(foreach d,$(PROGRAM_DIRS),$(BUILD)/bin/$(notdir $(patsubst %/,%,$(d))))

define program_rule
$(BUILD)/bin/$(notdir $(patsubst %/,%,$(1))): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)*.c)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(PROGRAM_DIRS),$(eval $(call program_rule,$(d))))

# ---- unit tests: tests/unit/test_<x>.c, each its own binary, no I/O -----------------------------
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# A unit test may test a service module: it links every non-main .c of the services it names.
SERVICE_MODULE_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %/main.c,$(wildcard services/*/*.c)))

# ... and may include their headers
$(BUILD)/obj/tests/unit/%.o: CFLAGS += $(addprefix -I,$(wildcard services/*))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(SERVICE_MODULE_OBJ) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(SERVICE_MODULE_OBJ) $(LIBS) $(LDLIBS)

# ---- targets ------------------------------------------------------------------------------------
.PHONY: all deps run up down test unit integration bench clean check-compose
.DEFAULT_GOAL := all
# nothing built is an intermediate to delete (generated sources, objects)
.SECONDARY:
all: $(PROGRAMS) $(UNIT_BINS)

deps:
	@deploy/deps.sh

run: deps all
	@deploy/local/erpsync.sh run

up: deps all
	@deploy/local/erpsync.sh up

down:
	@deploy/local/erpsync.sh down

test: deps all
	@tests/run.sh

unit: all
	@tests/run.sh --unit-only

bench: deps all
	@tests/bench/run.sh

check-compose:
	docker-compose -f docker-compose.yml config -q

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
