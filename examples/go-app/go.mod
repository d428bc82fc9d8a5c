// A small producer and consumer of the generated Go package (gen/go).
module ampygen.test/goapp

go 1.26.0

require (
	ampyfin.dev/ampybus v0.0.0
	google.golang.org/protobuf v1.36.12
)

replace ampyfin.dev/ampybus => ../../gen/go
