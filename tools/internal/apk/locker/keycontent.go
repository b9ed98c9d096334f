package locker

import (
	"fmt"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/lockfile"
)

// embedKeys records each keyring entry's key in the lock (`content`), as apko v1.2.39's
// lock does, so a build needs no fetch of a key URL that may be gone after a rotation.
func (in *input) embedKeys(f *fetcher, l *lockfile.Lock) error {
	for _, k := range in.cfg.Contents.Keyring {
		u, err := in.inLock(k)
		if err != nil {
			return err
		}
		b, err := f.readAll(k, 1<<20)
		if err != nil {
			return fmt.Errorf("keyring %s: %w", k, err)
		}
		for i := range l.Contents.Keyring {
			if l.Contents.Keyring[i].URL == u {
				l.Contents.Keyring[i].Content = string(b)
			}
		}
	}
	return nil
}
