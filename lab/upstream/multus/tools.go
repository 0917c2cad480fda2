//go:build tools

// Package multus lists the command lab/setup.sh builds, so that `go mod tidy` keeps every
// module it needs in go.sum.
package multus

import _ "gopkg.in/k8snetworkplumbingwg/multus-cni.v4/cmd/multus"
