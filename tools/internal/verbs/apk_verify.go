package verbs

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
)

// verified remembers, for the life of the process (a persistent worker's), the packages
// that verified: after a lock edit only the changed packages are checked again.
var verified = apkfile.NewVerifyCache(100_000)

func apkVerify(args []string) error {
	var a apkfile.Locked
	var keys cli.Strings
	var out, list, lock string
	var requireSigs bool
	fs := newFlags("apk-verify")
	lockedFlags(fs, &a, "file holding the next bytes of the package (repeatable); the data member is not read")
	fs.Var(&keys, "key", "PEM public key file; its base name is the key name (repeatable)")
	fs.StringVar(&out, "out", "", "output: verification record JSON")
	fs.StringVar(&list, "packages", "", "JSON list of packages to check ({name, version, arch, parts, control_checksum, data_checksum}) instead of --name/--version/--arch/--part")
	fs.StringVar(&lock, "lock", "", "the lock the packages come from, for messages")
	fs.BoolVar(&requireSigs, "require-signatures", false, "fail on unsigned packages instead of trusting them through the lock")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pkgs []apkfile.Locked
	if list != "" {
		b, err := os.ReadFile(list)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &pkgs); err != nil {
			return fmt.Errorf("--packages %s: %w", list, err)
		}
	} else {
		if err := cli.Require("name", a.Name, "version", a.Version, "arch", a.Arch); err != nil {
			return err
		}
		pkgs = []apkfile.Locked{a}
	}
	if err := cli.Require("out", out); err != nil {
		return err
	}
	ring, err := apkfile.LoadKeyring(keys)
	if err != nil {
		return err
	}
	recs, err := apkfile.VerifyAll(ring, pkgs, requireSigs, lock, verified)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(recs, "", "  ")
	return atomicfile.WriteFile(out, append(b, '\n'))
}
