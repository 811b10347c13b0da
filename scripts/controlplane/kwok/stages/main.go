// Command stages prints kwok's own default "fast" stages (a node becomes Ready and keeps its lease, a pod Running, a Job's pod
// Succeeded, a deleted pod goes away) as one YAML stream for `kwok --config`.
//
// The kwok binary applies no stage unless it is given some; these are the ones kwok's own cluster tool installs,
// taken from the module at the pinned version rather than written out again.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	stages := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, stage := range stages {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Println(strings.TrimSpace(stage))
	}
}
