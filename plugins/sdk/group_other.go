//go:build !unix

package sdk

import "github.com/hashicorp/go-hclog"

func exitOnTerminate(hclog.Logger) {}

func endProcessGroup() {}
