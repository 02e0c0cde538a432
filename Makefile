# The two commands the README promises, and a few for working on Gapless.
.PHONY: run test build build-dev e2e size tti load lint fmt clean

run:        ## install what is missing, build (release), start at http://127.0.0.1:3000
	scripts/run.sh

test:       ## the whole test suite: Rust unit/property/contract/black-box tests, build, browser tests
	scripts/test.sh

build:      ## release build: target/gapless and target/site
	scripts/build.sh release

build-dev:  ## debug build, faster to compile
	scripts/build.sh dev

e2e:        ## browser tests only, against the last build
	scripts/test.sh e2e

size:       ## brotli transfer size of the three bundles (budgets: shop 160 KiB, returns 252 KiB, staff 348 KiB)
	node scripts/compress.mjs target/site --report

tti:        ## time to interactive of / and /returns, throttled like Lighthouse (slow 4G, CPU 4x)
	scripts/tti.sh

load:       ## turns/s and latency against the release server, beside SQLite's plain commit rate
	scripts/load.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --features gapless-store/testing -- -D warnings

fmt:
	cargo fmt --all

clean:
	rm -rf target/site target/gapless
