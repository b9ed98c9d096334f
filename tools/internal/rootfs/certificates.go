package rootfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/installer"
	"github.com/rules-wharf/rules_wharf/tools/internal/apkoconfig"
)

// What apko v1.2.39 (pkg/build/certificates.go, runtime_keyring.go) writes to.
const (
	caCertsDir = "usr/local/share/ca-certificates"
	apkKeysDir = "etc/apk/keys"
)

var (
	caBundlePaths = []string{
		"etc/ssl/certs/ca-certificates.crt",
		"var/lib/ecs/deps/execute-command/certs/tls-ca-bundle.pem",
		"kaniko/ssl/certs/ca-certificates.crt",
	}
	javaTruststorePaths = []string{"etc/ssl/certs/java/cacerts"}
	// javaTruststorePassword is the JDK's well-known default, as apko uses it: the
	// truststore's integrity digest, not a secret.
	javaTruststorePassword = []byte("changeit")
)

// Reader returns the content of a file node whose content is at a package layer.
type Reader func(*Node) ([]byte, error)

// trusted is a certificate to add, with its Java truststore alias.
type trusted struct {
	cert  *apkoconfig.Certificate
	alias string
}

// ApplyCertificates does what apko's installCertificates does: each additional certificate
// becomes usr/local/share/ca-certificates/<name>-<sha256>.crt (0644); then the additional
// certificates, and the providers' certificate files sorted by path, are appended (PEM and
// a newline) to every CA bundle the image has and added to every Java truststore (JKS,
// aliases in order, entries created at created).
func (f *FS) ApplyCertificates(c *apkoconfig.Certificates, pkgs []*installer.Installed, read Reader, created time.Time) error {
	if c == nil {
		return nil
	}
	var certs []trusted
	if len(c.Additional) > 0 {
		if _, err := f.mkdirAll(caCertsDir, 0o755); err != nil {
			return fmt.Errorf("certificates: %w", err)
		}
	}
	for i := range c.Additional {
		a := &c.Additional[i]
		alias := a.Name + "-" + a.Fingerprint
		if err := f.writeFile(path.Join(caCertsDir, alias+".crt"), a.PEM, 0o644); err != nil {
			return fmt.Errorf("certificates.additional %s: %w", a.Name, err)
		}
		certs = append(certs, trusted{a, alias})
	}
	provided, err := f.providedCertificates(c.Providers, pkgs, read)
	if err != nil {
		return err
	}
	if certs = append(certs, provided...); len(certs) == 0 {
		return nil
	}
	if err := f.appendToBundles(certs, read); err != nil {
		return err
	}
	return f.addToTruststores(certs, read, created)
}

// providedCertificates reads the certificate files (.crt, .pem under
// usr/local/share/ca-certificates) of the packages that provide one of providers, sorted
// by path; files that are not one PEM certificate are skipped, as apko skips them.
func (f *FS) providedCertificates(providers []string, pkgs []*installer.Installed, read Reader) ([]trusted, error) {
	if len(providers) == 0 {
		return nil, nil
	}
	res, err := installer.Install(pkgs, installer.BaseDirs)
	if err != nil {
		return nil, err
	}
	var files []string
	for i, p := range pkgs {
		if !slices.ContainsFunc(p.Info.Provides, func(s string) bool { return slices.Contains(providers, s) }) {
			continue
		}
		for _, e := range res.Owned[i] {
			ext := path.Ext(e.Path)
			if e.Type != "dir" && strings.HasPrefix(e.Path, caCertsDir+"/") && (ext == ".crt" || ext == ".pem") {
				files = append(files, e.Path)
			}
		}
	}
	sort.Strings(files)
	var out []trusted
	for _, p := range files {
		data, err := f.read(p, read)
		if err != nil {
			return nil, fmt.Errorf("certificates.providers: %w", err)
		}
		if cert, err := apkoconfig.ParseCertificate(data); err == nil {
			out = append(out, trusted{cert, "pkg-" + cert.Fingerprint})
		}
	}
	return out, nil
}

// read returns the content of the file p resolves to.
func (f *FS) read(p string, read Reader) ([]byte, error) {
	real, n, err := f.stat(p)
	if err != nil {
		return nil, err
	}
	if n.Kind != File {
		return nil, perr(real, "is a %s, not a file", n.Kind)
	}
	return readFile(n, real, read)
}

// store is a CA bundle or Java truststore the image has.
type store struct {
	path string
	node *Node
	data []byte
}

// existing returns the stores at paths that exist (through symlinks), with their content.
func (f *FS) existing(paths []string, read Reader) ([]store, error) {
	var out []store
	for _, p := range paths {
		_, n, err := f.stat(p)
		if isNotExist(err) {
			continue
		}
		var b []byte
		if err == nil {
			b, err = f.read(p, read)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, store{p, n, b})
	}
	return out, nil
}

// appendToBundles appends each certificate (PEM and a newline) to every CA bundle. Two
// bundle paths that are one file get each certificate once, as in apko: it appends through
// one handle per path, each writing the same bytes at the same offset.
func (f *FS) appendToBundles(certs []trusted, read Reader) error {
	bundles, err := f.existing(caBundlePaths, read)
	if err != nil {
		return fmt.Errorf("certificates: CA bundle: %w", err)
	}
	var add []byte
	for _, c := range certs {
		add = append(append(add, c.cert.PEM...), '\n')
	}
	for _, b := range bundles {
		b.node.Data, b.node.dirty = append(slices.Clone(b.data), add...), true
	}
	return nil
}

// addToTruststores adds each certificate to every Java truststore and stores it again.
func (f *FS) addToTruststores(certs []trusted, read Reader, created time.Time) error {
	stores, err := f.existing(javaTruststorePaths, read)
	if err != nil {
		return fmt.Errorf("certificates: Java truststore: %w", err)
	}
	for _, s := range stores {
		ks := keystore.New(keystore.WithOrderedAliases())
		if err := ks.Load(bytes.NewReader(s.data), javaTruststorePassword); err != nil {
			return fmt.Errorf("certificates: Java truststore /%s (JKS, password changeit, as apko reads it): %w", s.path, err)
		}
		for _, c := range certs {
			entry := keystore.TrustedCertificateEntry{CreationTime: created, Certificate: keystore.Certificate{Type: "X.509", Content: c.cert.DER}}
			if err := ks.SetTrustedCertificateEntry(c.alias, entry); err != nil {
				return fmt.Errorf("certificates: Java truststore /%s: %s: %w", s.path, c.alias, err)
			}
		}
		var buf bytes.Buffer
		if err := ks.Store(&buf, javaTruststorePassword); err != nil {
			return fmt.Errorf("certificates: Java truststore /%s: %w", s.path, err)
		}
		s.node.Data, s.node.dirty = buf.Bytes(), true
	}
	return nil
}

// WriteBundleChecksums does what apko's writeCABundleChecksums does for every image: beside
// each CA bundle and Java truststore, .<name>.sha256 (0444) with "<sha256>  <name>\n".
func (f *FS) WriteBundleChecksums(read Reader) error {
	for _, p := range append(slices.Clone(caBundlePaths), javaTruststorePaths...) {
		found, err := f.existing([]string{p}, read)
		if err != nil {
			return fmt.Errorf("certificate store checksum: %w", err)
		}
		if len(found) == 0 {
			continue
		}
		sum := sha256.Sum256(found[0].data)
		line := fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), path.Base(p))
		if err := f.writeFile(path.Join(path.Dir(p), "."+path.Base(p)+".sha256"), []byte(line), 0o444); err != nil {
			return fmt.Errorf("certificate store checksum: %w", err)
		}
	}
	return nil
}

// ApplyRuntimeKeyring does what apko's installRuntimeKeyring does: each key, by name, to
// /etc/apk/keys/<name> (0644); a name that exists there already is an error.
func (f *FS) ApplyRuntimeKeyring(keys []apkoconfig.RuntimeKey) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := f.mkdirAll(apkKeysDir, 0o755); err != nil {
		return fmt.Errorf("contents.runtime_keyring: %w", err)
	}
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b apkoconfig.RuntimeKey) int { return strings.Compare(a.Name, b.Name) })
	for _, k := range keys {
		p := path.Join(apkKeysDir, k.Name)
		_, n, err := f.resolve(p, false)
		if err == nil && n != nil {
			err = fmt.Errorf("/%s exists already (a %s, from the packages, the keyring or paths), and apko does not overwrite it", p, n.Kind)
		}
		if err == nil {
			err = f.writeFile(p, k.PEM, 0o644)
		}
		if err != nil {
			return fmt.Errorf("contents.runtime_keyring %s: %w", k.Name, err)
		}
	}
	return nil
}

// writeFile is tarfs's WriteFile: the file p resolves to gets data; a new one gets perm, an
// existing one keeps its mode and owner.
func (f *FS) writeFile(p string, data []byte, perm int64) error {
	_, prev, err := f.resolve(p, true)
	if err != nil {
		return err
	}
	_, n, err := f.openOrCreate(p)
	if err != nil {
		return err
	}
	if prev == nil {
		n.Mode = perm
	}
	n.Data, n.dirty = data, true
	return nil
}
