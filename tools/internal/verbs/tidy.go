package verbs

import (
	"errors"
	"io"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/locktidy"
)

// tidyVerb brings the module's MODULE.bazel in step with its apko.lock.json files
// (apk.translate_lock entries and use_repo); --check only reports what it would change.
func tidyVerb(args []string, log io.Writer) error {
	var root string
	var check bool
	fs := newFlags("tidy")
	fs.StringVar(&root, "workspace", os.Getenv("BUILD_WORKSPACE_DIRECTORY"), "the module's root (default: $BUILD_WORKSPACE_DIRECTORY, set by `bazel run`)")
	fs.BoolVar(&check, "check", false, "change nothing: fail if MODULE.bazel is not in step with the locks")
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	if root == "" {
		return errors.New("no workspace: run it with `bazel run` (which sets $BUILD_WORKSPACE_DIRECTORY) or give --workspace")
	}
	return locktidy.Run(root, check, log)
}
