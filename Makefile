# Kefu — make targets. Only Go is needed; anything else is installed here.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 60s
BENCHTIME ?= 1s
PKGS      := ./...

.PHONY: all build run test web-deps deps vet lint fmt bench bench-smoke fuzz fuzz-smoke bench-compare proto clean

all: build

## build: the server and the load generator into ./bin
build:
	$(GO) build -trimpath -o $(BIN)/kefu ./cmd/kefu
	$(GO) build -trimpath -o $(BIN)/kefu-bench ./cmd/kefu-bench

## run: start kefu with its embedded defaults (data in ./data)
run: build
	./$(BIN)/kefu

## test: vet, then every test with the race detector (installs the web
## tests' Chromium and npm packages and the MQTT tests' mosquitto clients
## first when missing)
test: vet web-deps deps
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

web-deps:
	bash web/deps.sh

## deps: Debian's mosquitto-clients for the MQTT interoperability test,
## installed with apt when missing and root
deps:
	@command -v mosquitto_pub >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq mosquitto-clients; \
		else echo "mosquitto-clients is missing and this is not root: install it (apt-get install mosquitto-clients) or TestMQTTMosquittoInterop fails"; fi; }

vet:
	$(GO) vet $(PKGS)

## lint: formatting and vet
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: hot-path Go benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./codec/... ./internal/... ./storage/... ./shard/... ./proto/...

## bench-compare: Kefu (sync, async) vs the goroutine-per-connection
## gorilla hub, and Kefu's MQTT broker vs mochi-mqtt and mosquitto (when
## installed), same scenarios, one machine, under 15 minutes; writes
## docs/benchmarks-compare.md
bench-compare:
	bash scripts/bench-compare.sh

## bench-smoke: every benchmark once, to keep them compiling and running
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

## fuzz: every fuzz target for FUZZTIME each (seed corpus in testdata/fuzz)
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

fuzz-smoke:
	FUZZTIME=5s GO=$(GO) bash scripts/fuzz.sh

## proto: regenerate proto/kefu.pb.go (installs protoc and protoc-gen-go if missing)
proto:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	cd proto && PATH="$$($(GO) env GOPATH)/bin:$$PATH" protoc --go_out=. --go_opt=paths=source_relative kefu.proto

clean:
	rm -rf $(BIN)
