# Pinpost — developer entry points. Tests need the Debian packages that
# board/dev/install-deps installs (mosquitto, mosquitto-clients, ejabberd, libssl-dev,
# libgpiod-dev, openssl, pkg-config).
#
#   make demo                        run the end-to-end demo (DEMO_SECONDS=20)
#   make test SWIFT_TEST_FLAGS=...   install deps, lint, build, run swift test, fuzz MQTT (FUZZ_SECONDS=60),
#                                    then the virtual board (board/vm/run-test; PINPOST_SKIP_VM=1 skips it)
#   make lint                        swift format lint --strict, shellcheck over board/ and provisioning/
#   make build                       swift build
#   make clean                       remove build output and the demo folder

SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all demo test build deps lint clean

all: build

demo:
	board/dev/demo

deps:
	board/dev/install-deps

# Style gates, first because they take seconds: swift-format (ships with the toolchain; --strict
# turns its warnings into a failure) and shellcheck over every shell script under board/ and
# provisioning/, found by its #! line (board/dev/check-shell --list shows them).
lint: deps
	$(SWIFT) format lint --strict -r --parallel Sources Tests Package.swift
	board/dev/check-shell

# The integration tests run the pinpost binary, so build it before testing.
# Then the MQTT fuzz target runs for FUZZ_SECONDS (its own package and build folder; 0 skips it).
test: deps lint
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)
	@if [ "$${PINPOST_SKIP_GPIO_SIM:-0}" != 1 ]; then board/gpio-sim/run-test --prepare; fi
	@if [ "$${PINPOST_SKIP_VM:-0}" != 1 ]; then board/vm/run-test --prepare; fi
	$(SWIFT) test $(SWIFT_BUILD_FLAGS) $(SWIFT_TEST_FLAGS)
	if [ "$(FUZZ_SECONDS)" != 0 ]; then Tests/Fuzz/run $(FUZZ_SECONDS); fi
	@if [ "$${PINPOST_SKIP_GPIO_SIM:-0}" != 1 ]; then board/gpio-sim/check-libgpiod2; fi
	@if [ "$${PINPOST_SKIP_VM:-0}" != 1 ]; then board/vm/run-test; fi

build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

clean:
	-board/dev/broker stop .demo
	rm -rf .build .demo
