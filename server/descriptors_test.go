package server_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	_ "github.com/webhookd/webhookd/server"
)

// TestAPIFileImportsAreRegistered checks that every file the API's proto
// files import is registered in the server, so that gRPC reflection can
// serve them all. The gen module names the openapiv2 options file without
// registering it (gen/internal/openapiv2opts); the server registers it.
func TestAPIFileImportsAreRegistered(t *testing.T) {
	t.Parallel()
	for _, fd := range []string{
		webhooksv1.File_webhooks_v1_webhook_service_proto.Path(),
		webhooksv1.File_webhooks_v1_admin_service_proto.Path(),
		webhooksv1.File_webhooks_v1_resources_proto.Path(),
	} {
		file, err := protoregistry.GlobalFiles.FindFileByPath(fd)
		if err != nil {
			t.Fatal(err)
		}
		imports := file.Imports()
		for i := range imports.Len() {
			imp := imports.Get(i)
			if imp.IsPlaceholder() {
				t.Errorf("%s imports %s, which is not registered: reflection cannot serve it", fd, imp.Path())
			}
		}
	}
}
