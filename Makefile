# The commands the README gives; .ci/run calls `make test` too.

.PHONY: run test lint fmt openapi bench

run:
	cargo run -- serve --demo

# Both backends: SQLite always, PostgreSQL at TEST_DATABASE_URL (default: the local server).
test:
	cargo test --workspace --locked

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

openapi:
	cargo run --quiet -- openapi --output openapi/openapi.json
