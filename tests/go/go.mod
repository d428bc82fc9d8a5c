// Tests of the generated Go package (gen/go): unit tests, the
// conformance vector runner and benchmarks. Run through tests/go/run.sh.
module ampygen.test/gotests

go 1.23

require (
	ampyfin.dev/ampybus v0.0.0
	google.golang.org/protobuf v1.36.12
)

replace ampyfin.dev/ampybus => ../../gen/go
