package verbs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rules-wharf/rules_wharf/tools/internal/loadtar"
	"github.com/rules-wharf/rules_wharf/tools/internal/push"
)

// loadTarVerb streams oci_load's archive, described by docker-tar --plan, into a runtime's
// load (the command after the flags' --) or to --out (ctr images import reads a file).
func loadTarVerb(args []string, log io.Writer) error {
	var creds push.Credentials
	var plan, out string
	fs := newFlags("load-tar")
	fs.StringVar(&plan, "plan", "", "the load plan (docker-tar --plan), its paths relative to the working directory (the runfiles')")
	fs.StringVar(&out, "out", "", "write the archive to this file instead of a command's standard input")
	creds.RegisterFlags(fs)
	if err := parseFlags(fs, args, log); err != nil {
		return err
	}
	argv := fs.Args()
	if plan == "" || (out == "") == (len(argv) == 0) {
		return errors.New("usage: wharf load-tar --plan PLAN (--out FILE | -- COMMAND ARGS...)")
	}
	p, err := loadtar.ReadPlan(plan)
	if err != nil {
		return err
	}
	kc, err := creds.Keychain()
	if err != nil {
		return err
	}
	stall, err := push.StallTimeout(push.DefaultStallTimeout, false)
	if err != nil {
		return err
	}
	src := loadtar.Sources{Dir: ".", Keychain: kc, Stall: stall}
	var st loadtar.Stats
	if out != "" {
		st, err = loadtar.ToFile(context.Background(), out, p, src)
	} else {
		st, err = loadtar.ToCommand(context.Background(), argv, p, src)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "load-tar: %s: %d blobs from the build (%s), %d base layers from the registry it was pulled from (%s)\n",
		p.Image, st.Local, push.Bytes(st.LocalBytes), st.Fetched, push.Bytes(st.FetchedBytes))
	return nil
}
