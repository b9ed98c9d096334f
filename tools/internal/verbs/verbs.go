// Package verbs implements the wharf tool's verbs. Each verb parses its own flags and
// returns an error; none exits the process.
package verbs

import (
	"flag"
	"io"
)

// Verb is one subcommand.
type Verb struct {
	Summary string
	Run     func(args []string) error
}

// All returns every verb by name.
func All() map[string]Verb {
	return map[string]Verb{
		"apk-extract":   {"verify an APK's control and data members against the lock and write its data member as a layer", apkExtract},
		"apk-verify":    {"verify an APK's signature against a keyring and the lock's control checksum", apkVerify},
		"layer":         {"write a deterministic layer from files", layerVerb},
		"image":         {"write an image config and manifest from layer metadata", imageVerb},
		"layout":        {"assemble an OCI image layout directory", layoutVerb},
		"index":         {"write an image index from image descriptors", indexVerb},
		"layout-files":  {"turn the downloaded files of an OCI layout (oci_pull) into one layout directory", layoutFilesVerb},
		"layout-import": {"describe an image of an OCI layout (config, layer metadata) for use as a base", importLayoutVerb},
		"merge-layers":  {"join gzip tar layers into one, in order", mergeVerb},
		"docker-tar":    {"write a docker/podman-loadable tarball of an image", dockerTarVerb},
		"push":          {"push an image from an OCI layout to a registry", pushVerb},
		"sbom":          {"write an SPDX 2.3 SBOM from package facts", sbomVerb},
		"sbom-index":    {"write an SPDX 2.3 SBOM for an image index from its images' descriptors and SBOMs", sbomIndexVerb},
		"lock":          {"resolve an apko.yaml against its repositories and write an apko lock (--check: fail if the lock is stale)", lockVerb},
		"apko-layer":    {"write the layer of an apko.yaml's accounts (/etc/passwd, /etc/group, home directories) and paths on top of packages", apkoLayerVerb},
		"apk-installdb": {"write the apk database layer (installed db, /etc/apk, base layout) for packages in install order", installdbVerb},
	}
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
