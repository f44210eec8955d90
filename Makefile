# heartbeat — build, test and run. `make help` lists the targets.

GO        ?= go
BIN       := bin
PLUGINS   := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version=$(VERSION) -X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.commit=$(COMMIT)
CONFIG    ?= examples/heartbeat.yaml
PREFIX    ?= /usr/local

# Code generation tools, pinned; installed into bin/tools by `make proto`.
TOOLS              := $(CURDIR)/$(BIN)/tools
BUF_VERSION        := v1.75.0
PROTOC_GEN_GO      := v1.36.12
PROTOC_GEN_GO_GRPC := v1.6.0

.PHONY: all build run test test-short lint proto proto-check tools install clean help

all: build

## build: the core (bin/heartbeat) and the plugins (bin/plugins/heartbeat-target-*)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/heartbeat ./cmd/heartbeat
	@for p in $(PLUGINS); do \
		echo "$(GO) build -o $(BIN)/plugins/heartbeat-target-$$p ./plugins/$$p"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/heartbeat-target-$$p ./plugins/$$p || exit 1; \
	done
	@# heartbeat refuses plugins that group or others may write (whatever the umask)
	chmod go-w $(BIN)/plugins $(BIN)/plugins/* $(BIN)/heartbeat

## run: build and run the daemon on the bundled example config (no external service needed)
run: build
	$(BIN)/heartbeat run --config $(CONFIG) --plugin-dir $(BIN)/plugins

## test: vet, generated-code freshness, every test with the race detector, and all the later.js vectors without it
test: lint proto-check
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestLaterVectors$$' ./core/schedule/ # all the vector files: too slow with -race
	cd examples/custom-target && $(GO) test -race -count=1 ./...

## test-short: the tests without the race detector (quicker)
test-short:
	$(GO) test -count=1 ./...

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
		if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd examples/custom-target && $(GO) vet ./...

tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc

$(TOOLS)/buf:
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)

## proto: regenerate the Go code of the plugin contract (proto/)
proto: tools
	cd proto && PATH="$(TOOLS):$$PATH" buf lint && PATH="$(TOOLS):$$PATH" buf generate

## proto-check: fail when the committed generated code is stale
proto-check: proto
	@if ! git diff --quiet --exit-code -- proto; then \
		echo "generated code in proto/ is stale: run make proto and commit the result"; \
		git diff --stat -- proto; exit 1; fi
	@if [ -n "$$(git ls-files --others --exclude-standard -- proto)" ]; then \
		echo "make proto created files that are not committed:"; git ls-files --others --exclude-standard -- proto; exit 1; fi

## install: install the core into PREFIX/bin and the plugins into PREFIX/lib/heartbeat/plugins
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/heartbeat/plugins
	install -m 0755 $(BIN)/heartbeat $(DESTDIR)$(PREFIX)/bin/heartbeat
	for p in $(PLUGINS); do install -m 0755 $(BIN)/plugins/heartbeat-target-$$p $(DESTDIR)$(PREFIX)/lib/heartbeat/plugins/; done

clean:
	rm -rf $(BIN)

help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## //'
