//go:build tools

// Package tools pins the Kubernetes control-plane commands this module builds (scripts/control_plane.py):
// `go build k8s.io/kubernetes/cmd/<name>` inside this module, with the version stamped through -ldflags.
//
// `go install k8s.io/kubernetes/cmd/kube-apiserver@<version>` is refused because k8s.io/kubernetes replaces its
// staging modules (k8s.io/api, k8s.io/client-go, ...) with local folders; go.mod here replaces each one with the
// published module of the same release instead.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
