// Command etcd is etcd's own server entrypoint, built from the pinned go.etcd.io/etcd/server/v3 module.
//
// `go install go.etcd.io/etcd/server/v3@<version>` is refused because that module's go.mod has replace
// directives; a main package of our own that requires the module builds the same server (scripts/control_plane.py).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
