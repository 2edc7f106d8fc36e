# Switchyard — the two commands of the quick start are `make run` and `make test`.
GO       ?= go
BIN      ?= bin
DATA     ?= ./switchyard-data
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: run test build bench fuzz vet tools clean

## run: start Switchyard locally (SQLite in $(DATA), API on 127.0.0.1:8080)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/switchyard serve --data $(DATA)

## test: everything — installs what the offline AWS tests need when it is missing
test: tools
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## build: the local binary and every Lambda function (bin/lambda/<name>/bootstrap, linux/arm64)
build: lambdas
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/switchyard ./cmd/switchyard

## bench: Go benchmarks with their figures
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: run every fuzzer briefly (FUZZTIME per target); corpora live in testdata/fuzz
FUZZTIME ?= 20s
fuzz:
	@for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$spec/*_test.go | sed 's/func //'); do \
	    echo "== $$spec $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$spec || exit 1; \
	  done; \
	done

## tools: what the tests need beyond Go (Node packages of infra/, Java for DynamoDB Local)
tools:
	@bash infra/ensure-tools.sh

clean:
	rm -rf $(BIN)

# Lambda builds (after the targets above, so `make` alone still means `make run`).
include build/lambdas.mk
