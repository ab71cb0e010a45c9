# erpsync — the only entry point a person needs.
#
#   make            build every library and binary into build/ (SANITIZE=1: ASan+UBSan into build/san/)
#   make deps       install build and run dependencies on Debian 12 (apt-get; idempotent)
#   make run        everything in the foreground: local Kafka + PostgreSQL, services, sandbox peers
#   make up / down  the same in the background / stop it
#   make test       unit + integration tests (own Kafka/PostgreSQL instance); ends "N passed, N failed"
#   make lint       static checks without the stack: banned functions, formatting, README tables
#   make bench      benchmarks (see docs/benchmarks.md)
#
# Layout (docs/ARCHITECTURE.md): common/ infrastructure, adapters/<kind>/ what erpsync speaks to
# outside systems, services/<name>/ the services, sandbox/<peer>/ the embedded peers, tools/.

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

# The package flags are read when they are first used, not when this file is read: `make run` on a
# fresh machine installs the -dev packages (deps) and then builds in a second make that reads them.
GEN        := build/gen
PKG_CFLAGS  = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS    = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
# Headers are found by folder: every folder of common/ and adapters/, and the source's own folder.
INC_DIRS   := common $(patsubst %/,%,$(sort $(dir $(wildcard common/*/*.h adapters/*/*.h))))
CFLAGS     += $(CSTD) $(OPT) $(WARN) -I. $(addprefix -I,$(INC_DIRS)) -I$(GEN) $(PKG_CFLAGS) -MMD -MP
# Generated protobuf code is not ours to keep warning-clean under every flag.
GENFLAGS   := $(CSTD) $(OPT) -I$(GEN) -w
LDLIBS     += $(PKG_LIBS) -lpthread -lm
LDFLAGS    += $(LDSAN)

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
	$(CC) $(GENFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libproto.a: $(PROTO_OBJ)
	$(AR) rcs $@ $^

# ---- libraries: infrastructure, adapters, the sandboxes' fault switches --------------------------
obj_of = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

$(BUILD)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(dir $<) -c -o $@ $<

COMMON_OBJ   := $(call obj_of,$(sort $(wildcard common/*.c common/*/*.c)))
ADAPTERS_OBJ := $(call obj_of,$(sort $(wildcard adapters/*/*.c)))
SANDBOX_OBJ  := $(call obj_of,$(sort $(wildcard sandbox/lib/*.c)))

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libadapters.a: $(ADAPTERS_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libsandbox.a: $(SANDBOX_OBJ)
	$(AR) rcs $@ $^

# adapters use common; a sandbox peer may use the adapters' contracts (it signs what erpsync verifies)
SERVICE_LIBS := $(BUILD)/libadapters.a $(BUILD)/libcommon.a $(BUILD)/libproto.a
SANDBOX_LIBS := $(BUILD)/libsandbox.a $(SERVICE_LIBS)

# ---- programs: one folder each, every .c in it linked with the libraries -------------------------
# services/<name>/ -> bin/<name>; sandbox/<peer>/ -> bin/sandbox-<peer>; tools/<name>/ -> bin/<name>
SANDBOX_INC := -Isandbox/lib
$(BUILD)/obj/sandbox/%.o: CFLAGS += $(SANDBOX_INC)
$(BUILD)/obj/tests/unit/sandbox/%.o: CFLAGS += $(SANDBOX_INC)

define program_rule # folder, binary name, libraries
$(BUILD)/bin/$(2): $(call obj_of,$(wildcard $(1)/*.c)) $(3)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
PROGRAMS += $(BUILD)/bin/$(2)
endef
PROGRAMS :=
$(foreach d,$(patsubst %/main.c,%,$(wildcard services/*/main.c tools/*/main.c)),\
	$(eval $(call program_rule,$(d),$(notdir $(d)),$(SERVICE_LIBS))))
$(foreach d,$(patsubst %/main.c,%,$(wildcard sandbox/*/main.c)),\
	$(eval $(call program_rule,$(d),sandbox-$(notdir $(d)),$(SANDBOX_LIBS))))

# ---- unit tests: tests/unit/<source folder>/test_<x>.c, each its own binary, no I/O --------------
# A test links the libraries and the modules (every .c but main.c) of the folder it mirrors:
# tests/unit/services/stock-sync/test_x.c tests services/stock-sync/, and so on.
define unit_rule # test source
$(BUILD)/tests/$(basename $(notdir $(1))): $(call obj_of,$(1)) \
		$(call obj_of,$(filter-out %/main.c,$(wildcard $(patsubst tests/unit/%,%,$(dir $(1)))*.c))) $(SANDBOX_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
$(call obj_of,$(1)): CFLAGS += -I$(patsubst tests/unit/%,%,$(dir $(1))) -Itests/unit
UNIT_BINS += $(BUILD)/tests/$(basename $(notdir $(1)))
endef
UNIT_BINS :=
$(foreach t,$(sort $(wildcard tests/unit/*/test_*.c tests/unit/*/*/test_*.c)),$(eval $(call unit_rule,$(t))))

# ---- targets ------------------------------------------------------------------------------------
.PHONY: all build deps run up down test unit integration lint bench clean check-compose
.DEFAULT_GOAL := all
# nothing built is an intermediate to delete (generated sources, objects)
.SECONDARY:
all: $(PROGRAMS) $(UNIT_BINS)

deps:
	@deploy/deps.sh

# After deps, a second make reads the package flags of what deps installed.
build: deps
	@$(MAKE) --no-print-directory all

run: build
	@deploy/local/erpsync.sh run

up: build
	@deploy/local/erpsync.sh up

down:
	@deploy/local/erpsync.sh down

test: build
	@tests/run.sh

unit: all
	@tests/run.sh --unit-only

lint:
	@tools/lint.sh

bench: build
	@tests/bench/run.sh

check-compose:
	docker-compose -f docker-compose.yml config -q

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
