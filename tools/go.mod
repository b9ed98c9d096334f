module github.com/rules-wharf/rules_wharf/tools

go 1.25.0

require github.com/klauspost/compress v1.19.2

require (
	github.com/CycloneDX/cyclonedx-go v0.9.3
	github.com/bazelbuild/bazel-gazelle v0.43.0
	github.com/bazelbuild/buildtools v0.0.0-20240918101019-be1c24cc9a44
	github.com/google/go-containerregistry v0.22.1
	github.com/google/shlex v0.0.0-20191202100458-e7afc7fbc510
	github.com/klauspost/pgzip v1.2.6
	github.com/pavlo-v-chernykh/keystore-go/v4 v4.5.0
	github.com/spdx/tools-golang v0.5.7
	golang.org/x/crypto v0.54.0
	golang.org/x/mod v0.39.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/anchore/go-struct-converter v0.1.0 // indirect
	github.com/bmatcuk/doublestar/v4 v4.7.1 // indirect
	github.com/docker/cli v29.7.2+incompatible // indirect
	github.com/docker/docker-credential-helpers v0.9.3 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	github.com/sirupsen/logrus v1.9.4 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/tools/go/vcs v0.1.0-deprecated // indirect
	gotest.tools/v3 v3.5.2 // indirect
)
