//go:build tools

// Package tools pins kwok, which this module builds (scripts/control_plane.py): `go build sigs.k8s.io/kwok/cmd/kwok`
// gives the controller that plays the kubelet of fake nodes (node and pod status only, no containers).
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
