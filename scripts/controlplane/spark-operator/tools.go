//go:build tools

// Package tools pins the Kubeflow spark-operator command this module builds (scripts/control_plane.py):
// `go build github.com/kubeflow/spark-operator/v2/cmd/operator` inside this module gives the `spark-operator` binary
// with its `controller start` and `webhook start` subcommands.
//
// `go install` of that command is refused because the operator's go.mod pins its k8s.io dependencies with replace
// directives, which only the main module may have; go.mod here repeats those pins.
package tools

import (
	_ "github.com/kubeflow/spark-operator/v2/cmd/operator"
)
