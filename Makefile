# The commands the README gives; .ci/run calls `make test` too.

.PHONY: run test tools sdk lint fmt openapi bench

run:
	cargo run -- serve --demo

# Both backends: SQLite always, PostgreSQL at TEST_DATABASE_URL (default: the local server).
# The Stripe adapter's suite runs against localstripe from `make tools`.
test: tools
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "$$TEST_DATABASE_URL" ] || \
		echo "note: no PostgreSQL at 127.0.0.1:5432 and no TEST_DATABASE_URL: the PostgreSQL half of the suites is skipped"
	cargo test --workspace --locked
	bash sdk/check.sh

# localstripe (crates/stripe/src/testing.rs finds it here) in a venv, every package pinned; done
# again only when the pins change.
TOOLS_VENV := target/tools/venv
TOOLS_REQUIREMENTS := crates/stripe/localstripe-requirements.txt

tools: $(TOOLS_VENV)/installed

$(TOOLS_VENV)/installed: $(TOOLS_REQUIREMENTS)
	rm -rf $(TOOLS_VENV)
	python3 -m venv $(TOOLS_VENV)
	PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 $(TOOLS_VENV)/bin/python -m pip install --quiet -r $<
	$(TOOLS_VENV)/bin/python -m pip check >/dev/null
	cp $< $@

# The generated SDKs (docs/sdks.md): redocly lint, the TypeScript types and example, the
# Python client and its scenario against the debug binary. Part of `make test`.
sdk:
	cargo build --locked -p vestibule-server
	bash sdk/check.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

openapi:
	cargo run --quiet -- openapi --output openapi/openapi.json

# Optimised build; needs about 15 minutes the first time. Not part of CI: numbers, not
# verdicts (docs/performance.md). The release binary is built too, for its start and idle memory.
bench:
	cargo build --release --locked -p vestibule-server
	VESTIBULE_BIN=$(CURDIR)/target/release/vestibule cargo bench -p vestibule-tests --bench api --locked
