package apkfile

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"sync"
)

// VerifyCache remembers the packages that verified, keyed by everything a verification
// reads: the keyring, what the lock says of the package, and the bytes of its parts. A
// persistent worker keeps one, so that after a lock edit the lock's check re-verifies only
// the packages that changed. Packages given as large parts (a whole .apk, from a lock of
// file paths) are not remembered: hashing them would cost more than checking them. Failed
// checks are never remembered. Safe for concurrent use.
type VerifyCache struct {
	mu   sync.Mutex
	max  int
	m    map[[sha256.Size]byte]VerifyRecord
	hits int
}

// verifyCacheMaxParts is the most bytes of parts a remembered package has: a ranged
// download's head (signature and control members) is a few KiB.
const verifyCacheMaxParts = 256 << 10

// NewVerifyCache returns a cache of at most max packages; when full it starts over.
func NewVerifyCache(max int) *VerifyCache {
	return &VerifyCache{max: max, m: map[[sha256.Size]byte]VerifyRecord{}}
}

// verify is a.Verify(ring), answered by the cache (when there is one) if it saw the same
// check pass; ringKey is ringSum(ring).
func (c *VerifyCache) verify(ring Keyring, ringKey []byte, a *Locked) (VerifyRecord, error) {
	if c == nil {
		return a.Verify(ring)
	}
	k, ok := c.key(ringKey, a)
	if ok {
		if rec, hit := c.get(k); hit {
			return rec, nil
		}
	}
	rec, err := a.Verify(ring)
	if err == nil && ok {
		c.put(k, rec)
	}
	return rec, err
}

// ringSum hashes the keyring: key names and public keys.
func ringSum(ring Keyring) []byte {
	h := sha256.New()
	names := make([]string, 0, len(ring))
	for n := range ring {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "key %q %d %x\n", n, ring[n].E, ring[n].N.Bytes())
	}
	return h.Sum(nil)
}

// key is the cache key of a's check against the keyring hashed in ring; false when a's
// parts are too large to remember (or unreadable: the check itself reports that).
func (c *VerifyCache) key(ring []byte, a *Locked) ([sha256.Size]byte, bool) {
	var k [sha256.Size]byte
	h := sha256.New()
	h.Write(ring)
	fmt.Fprintf(h, "package %q %q %q %q %q\n", a.Name, a.Version, a.Arch, a.ControlChecksum, a.DataChecksum)
	left := int64(verifyCacheMaxParts)
	for _, p := range a.Parts {
		if !hashPart(h, p, &left) {
			return k, false
		}
	}
	copy(k[:], h.Sum(nil))
	return k, true
}

// hashPart adds the length and bytes of the file p to h, if they fit in left.
func hashPart(h hash.Hash, p string, left *int64) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() > *left {
		return false
	}
	fmt.Fprintf(h, "part %d\n", st.Size())
	n, err := io.Copy(h, io.LimitReader(f, st.Size()+1))
	if err != nil || n != st.Size() {
		return false
	}
	*left -= n
	return true
}

func (c *VerifyCache) get(k [sha256.Size]byte) (VerifyRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[k]
	if ok {
		c.hits++
	}
	return rec, ok
}

// Hits is how many packages the cache answered for.
func (c *VerifyCache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

func (c *VerifyCache) put(k [sha256.Size]byte, rec VerifyRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = rec
}
