// A user of ampygen's Go bindings generated against payload types the user
// already has (tests/byo/run.sh copies this next to the scratch modules).
module example.com/acmeapp

go 1.26.0

require (
	example.com/acme/bus v0.0.0
	example.com/acmeprotos v0.0.0
	google.golang.org/protobuf v1.36.12
)

replace (
	example.com/acme/bus => ../bus
	example.com/acmeprotos => ../acmeprotos
)
