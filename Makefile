# The commands the README gives; .ci/run calls `make test` too.

.PHONY: run test sdk lint fmt openapi bench

run:
	cargo run -- serve --demo

# Both backends: SQLite always, PostgreSQL at TEST_DATABASE_URL (default: the local server).
test:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "$$TEST_DATABASE_URL" ] || \
		echo "note: no PostgreSQL at 127.0.0.1:5432 and no TEST_DATABASE_URL: the PostgreSQL half of the suites is skipped"
	cargo test --workspace --locked
	bash sdk/check.sh

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

# Optimised build; needs a few minutes the first time. Not part of CI: numbers, not verdicts.
bench:
	cargo bench -p vestibule-tests --bench api --locked
