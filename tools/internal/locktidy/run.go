package locktidy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
)

// ErrNotTidy is returned by Run with check set when MODULE.bazel needs changes.
var ErrNotTidy = errors.New("MODULE.bazel is not in step with the tree's apko.lock.json files")

// Run brings root/MODULE.bazel in step with the apko.lock.json files under root and
// writes each change to log. With check set it writes nothing and returns ErrNotTidy,
// with the changes it would make, when there are any.
func Run(root string, check bool, log io.Writer) error {
	modPath := filepath.Join(root, "MODULE.bazel")
	data, err := os.ReadFile(modPath)
	if err != nil {
		return fmt.Errorf("reading the module's MODULE.bazel: %w", err)
	}
	locks, err := Scan(root)
	if err != nil {
		return err
	}
	exists := func(p string) bool {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
		return err == nil
	}
	out, changes, err := Tidy("MODULE.bazel", data, locks, exists)
	if err != nil {
		return err
	}
	if check && len(changes) > 0 {
		return fmt.Errorf("%w:\n  %s", ErrNotTidy, strings.Join(changes, "\n  "))
	}
	if len(changes) > 0 {
		if err := atomicfile.WriteWorkspaceFile(modPath, out); err != nil {
			return fmt.Errorf("writing %s: %w", modPath, err)
		}
	}
	fmt.Fprintln(log, String("MODULE.bazel", locks, changes))
	return nil
}
