// Package verbs implements the wharf tool's verbs. Each verb parses its own flags and
// returns an error; none exits the process.
package verbs

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Verb is one subcommand. Run writes what the user should see on success (Bazel shows an
// action's output as a build message) to log, never to os.Stdout or os.Stderr: in a
// persistent worker those are the protocol and the worker's log file.
type Verb struct {
	Summary string
	Run     func(args []string, log io.Writer) error
}

// quiet adapts a verb that has nothing to say on success.
func quiet(run func(args []string) error) func([]string, io.Writer) error {
	return func(args []string, _ io.Writer) error { return run(args) }
}

// All returns every verb by name.
func All() map[string]Verb {
	return map[string]Verb{
		"apk-extract":       {"verify an APK's control and data members against the lock and write its data member as a layer", quiet(apkExtract)},
		"apk-verify":        {"verify an APK's signature against a keyring and the lock's control checksum", quiet(apkVerify)},
		"layer":             {"write a deterministic layer from files", quiet(layerVerb)},
		"tar-layer":         {"make a layer of an existing .tar/.tar.gz/.tar.zst: checked and used as is (a plain tar compressed), re-packed only if it holds a global PAX header", tarLayerVerb},
		"image":             {"write an image config and manifest from layer metadata", quiet(imageVerb)},
		"layout":            {"assemble an OCI image layout directory", quiet(layoutVerb)},
		"index":             {"write an image index from image descriptors", quiet(indexVerb)},
		"layout-files":      {"turn the downloaded files of an OCI layout (oci_pull) into one layout directory", quiet(layoutFilesVerb)},
		"layout-import":     {"describe an image of an OCI layout (config, layer metadata) for use as a base", quiet(importLayoutVerb)},
		"merge-layers":      {"join gzip tar layers into one, in order", quiet(mergeVerb)},
		"docker-tar":        {"write a docker/podman-loadable tarball of an image", quiet(dockerTarVerb)},
		"load-tar":          {"stream oci_load's archive (docker-tar --plan) into a runtime's load, a shallow base's layers from the registry it was pulled from", loadTarVerb},
		"expand-tags":       {"write oci_push's tags: literal tags and tags files, with {KEY} expanded from workspace status files when stamping", quiet(expandTagsVerb)},
		"push":              {"push an image from an OCI layout to a registry", pushVerb},
		"sbom":              {"write an SPDX 2.3 SBOM from package facts", quiet(sbomVerb)},
		"sbom-layer":        {"write a layer's part of its images' SBOMs: the files a Bazel rule put in, with labels and hashes, and its Go binaries' modules", quiet(sbomLayerVerb)},
		"sbom-index":        {"write an SPDX 2.3 SBOM for an image index from its images' descriptors and SBOMs", quiet(sbomIndexVerb)},
		"lock":              {"resolve an apko.yaml against its repositories and write an apko lock (--check: fail if the lock is stale)", lockVerb},
		"apko-layer":        {"write the layer of an apko.yaml's accounts (/etc/passwd, /etc/group, home directories) and paths on top of packages", quiet(apkoLayerVerb)},
		"apko-image-config": {"write the image config defaults an apko.yaml gives (entrypoint, cmd, env, user, ...) for image --defaults", quiet(apkoImageConfigVerb)},
		"apk-installdb":     {"write the apk database layer (installed db, /etc/apk, base layout) for packages in install order", installdbVerb},
		"vuln-check":        {"fail when a locked package is below a version that fixes a vulnerability in the secdb/OSV databases, unless allowed with a reason", vulnCheckVerb},
		"files":             {"write an image's files document: every path of its final filesystem with the layer, package or label that put it there and the entries it replaced", quiet(filesVerb)},
		"explain":           {"print which layer, package or label put each given path in an image, and what it replaced, from its files document", explainVerb},
		"structure-test":    {"check an image's files and config against container-structure-test YAML (schema 2.0.0) and policy rules; the report names each failing check", structureTestVerb},
		"attest-sbom":       {"write in-toto statements whose predicates are an image's SBOMs (SPDX, CycloneDX), about its manifest or index digest", quiet(attestSBOMVerb)},
		"provenance":        {"write SLSA provenance v1 as an in-toto statement: the target, its locks by sha256, bases and layers by digest, and when stamping the source revision and build label", quiet(provenanceVerb)},
		"verify":            {"check pushed images' cosign signatures and required attestations against a public key (REPOSITORY@sha256:... or --plan of oci_push)", verifyVerb},
		"tidy":              {"keep MODULE.bazel's apk.translate_lock entries and use_repo in step with the apko.lock.json files of the module (--check: fail instead of changing it)", tidyVerb},
		"version":           {"print the release this binary was built for (\"dev\" when built from source)", versionVerb},
	}
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses a verb's flags. -h or --help writes the verb's usage and flags to log
// and returns flag.ErrHelp, which the command line takes as success.
func parseFlags(fs *flag.FlagSet, args []string, log io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(log, "usage: wharf %s [flags]\n%s\n\nflags:\n", fs.Name(), All()[fs.Name()].Summary)
		fs.SetOutput(log)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return err
}
