//go:build !unix

package credentials

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, cancellation kills the helper
// alone, and cmd.WaitDelay keeps a child holding its output from blocking us.
func ownGroup(cmd *exec.Cmd) {}
