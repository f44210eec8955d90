package main

// The libraries the release tool builds its artefacts with.
import (
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)
