package loadtar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
)

// ToFile writes p's archive to out whole or not at all (`ctr images import` reads a file).
func ToFile(ctx context.Context, out string, p Plan, src Sources) (Stats, error) {
	f, err := atomicfile.Create(out)
	if err != nil {
		return Stats{}, err
	}
	defer f.Abort()
	st, err := Stream(ctx, f, p, src)
	if err != nil {
		return st, err
	}
	return st, f.Commit()
}

// ToCommand streams p's archive into argv's standard input (`docker load`, `podman load`,
// `nerdctl load`). A blob that cannot be read or is not its digest stops the command
// before the archive's manifest.json and index.json are sent, so it loads nothing; the
// command's output is shown only when it fails.
func ToCommand(ctx context.Context, argv []string, p Plan, src Sources) (Stats, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	// A child the command leaves behind holding its output does not keep Wait waiting.
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Stats{}, err
	}
	shown := "`" + strings.Join(argv, " ") + "`"
	if err := cmd.Start(); err != nil {
		return Stats{}, fmt.Errorf("%s: %w", shown, err)
	}
	w := &countingWriter{w: stdin}
	st, err := Stream(ctx, w, p, src)
	if err != nil && w.err == nil {
		// The archive is incomplete: the command must not load what it has read.
		cmd.Process.Kill()
		stdin.Close() // a child of the command (sh's) then sees the end of its input
		cmd.Wait()
		return st, fmt.Errorf("%w\nnothing was loaded: %s was stopped before the archive's index.json and manifest.json, which come after the layers", err, shown)
	}
	stdin.Close()
	werr := cmd.Wait()
	switch {
	case werr != nil:
		return st, fmt.Errorf("%s failed (%v) after %d bytes of the archive were sent:\n%s", shown, werr, w.n, strings.TrimSpace(output.String()))
	case err != nil:
		return st, fmt.Errorf("%s stopped reading the archive after %d bytes (%v) and exited 0:\n%s", shown, w.n, w.err, strings.TrimSpace(output.String()))
	}
	return st, nil
}

// countingWriter counts the bytes the command took and keeps the error writing to it.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
