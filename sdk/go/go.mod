module github.com/webhookd/webhookd/sdk/go

go 1.26.0

require (
	github.com/webhookd/webhookd/gen v0.1.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
)

// gen is required at the release in VERSION, the SDK's own version (a release
// tags gen/vX.Y.Z and sdk/go/vX.Y.Z together). Within this repository the SDK
// is built against the gen module beside it, so both come from the same proto/.
replace github.com/webhookd/webhookd/gen => ../../gen
