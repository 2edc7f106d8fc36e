# lambdas: cross-compile every Lambda function (functions/<name>/) for provided.al2023 on arm64 into
# bin/lambda/<name>/bootstrap: the executable the provided runtimes start (a zip with bootstrap at its
# root, which lambdas-zip makes). Included by the Makefile; `sam build` builds the same code by itself.
#   lambda.norpc drops the legacy go1.x RPC server from aws-lambda-go (smaller, faster cold start);
#   CGO off gives a static binary; -trimpath and the stripped symbols keep local paths out of it.
# One `go build` per function, but they share the build cache, so after the first the rest mostly link.
GO           ?= go
LAMBDA_DIR   ?= bin/lambda
LAMBDA_NAMES := $(notdir $(patsubst %/,%,$(dir $(wildcard functions/*/main.go))))
LAMBDA_BINS  := $(addsuffix /bootstrap,$(addprefix $(LAMBDA_DIR)/,$(LAMBDA_NAMES)))
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: lambdas lambdas-zip
## lambdas: build every function to bin/lambda/<name>/bootstrap (linux/arm64)
lambdas: $(LAMBDA_BINS)

# Always rebuilt: Go's own cache decides what is stale (a change under pkg/ touches every function).
.PHONY: $(LAMBDA_BINS)
$(LAMBDA_BINS): $(LAMBDA_DIR)/%/bootstrap:
	@mkdir -p $(dir $@)
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

## lambdas-zip: bin/lambda/<name>.zip with bootstrap at the root, for a manual upload
lambdas-zip: lambdas
	@for n in $(LAMBDA_NAMES); do (cd $(LAMBDA_DIR)/$$n && rm -f ../$$n.zip && zip -q -X ../$$n.zip bootstrap) || exit 1; done
