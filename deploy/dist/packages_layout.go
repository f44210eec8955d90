package main

// Where heartbeat's files go on a Linux system, the same in the .deb, the
// .rpm, the OCI image and deploy/docker/Dockerfile (oci_dockerfile_test.go
// holds the Dockerfile to these).
const (
	// installedBinary is the core's path; heartbeat finds the bundled
	// plugins at ../lib/heartbeat/plugins relative to it.
	installedBinary = "/usr/bin/heartbeat"
	// installedPluginDir holds heartbeat-target-<name>; it and its parent
	// are 0755: heartbeat refuses plugin directories others may write.
	installedPluginDir = "/usr/lib/heartbeat/plugins"
	// installedConfig is the default config path when neither --config nor
	// $HEARTBEAT_CONFIG names one.
	installedConfig = "/etc/heartbeat/heartbeat.yaml"
	// installedUnit is the systemd unit of the packages.
	installedUnit = "/usr/lib/systemd/system/heartbeat.service"
	// installedDocDir holds LICENSE and README.md.
	installedDocDir = "/usr/share/doc/heartbeat"
)

// Files of the repository the packages and the image are made of, relative
// to Release.Root.
const (
	packagingDir = "deploy/packaging"
	// packagedConfig is /etc/heartbeat/heartbeat.yaml of the packages: the
	// log target, and the listen address on loopback.
	packagedConfig = packagingDir + "/heartbeat.yaml"
	// containerConfig is /etc/heartbeat/heartbeat.yaml of the image: the
	// log target, and the listen address on every interface for probes.
	containerConfig = packagingDir + "/image/heartbeat.yaml"
	packagedUnit    = packagingDir + "/heartbeat.service"
)

// listenPort is the port both packaged configs serve /healthz on.
const listenPort = "9464"
