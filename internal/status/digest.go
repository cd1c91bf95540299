package status

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The informer cache's copy of an object of ours keeps a digest of its status instead of
// the status itself (CacheTransform). The status writer is the only reader of those
// statuses, and what it wants to know of one, almost always, is whether it already says
// what the build computed: the digest answers that. Kept whole, the statuses the writer
// had just written stayed in the cache for the life of the process: at 10,000
// IngressRoutes the live heap after the status writes was 72–75 MB with them, 66–69 MB
// with digests.
//
// When the digest says the status differs, the writer reads the object from the API
// server (Writer.Reader), since merging conditions keeps each one's transition time. An
// empty status is kept as it is (nothing to strip): the writer merges into it without a
// read, so a fresh object costs one write, as before.

// digestCondition is the type of the one condition a digested status holds; its message
// is the digest. The transform makes it, in the cache only; a status on a server that
// looks the same (someone wrote it) is left as it is, since a transform must give the same
// object when it is applied again (an informer's resync does), and the writer finds that
// its digest is not the status it would write, so reads the object.
const digestCondition = "bridgehead.dev/StatusDigest"

// digestKey keys the digests (an HMAC), so that no status written by someone else can
// pass for the one the writer is about to write.
var digestKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("status: no randomness for the status digest key: " + err.Error())
	}
	return k
}()

// CacheTransform replaces the status of an object of ours with its digest; any other
// object is returned as it is. Set it as the informer cache's transform (after any
// other) in a process whose status Writer has a Reader.
func CacheTransform(obj any) (any, error) {
	o, ok := obj.(interface {
		withStatus
		client.Object
	})
	if !ok {
		return obj, nil
	}
	cur := statusOf(o)
	if cur.empty() || isDigest(cur.status) {
		return obj, nil
	}
	cur.set(bhv1.Status{Conditions: []metav1.Condition{{
		Type:    digestCondition,
		Status:  metav1.ConditionUnknown,
		Reason:  "CachedDigest",
		Message: statusDigest(cur.status.ObservedGeneration, cur.status.Conditions, cur.hosts, cur.certs),
	}}}, nil, nil)
	return obj, nil
}

// isDigest reports whether a status is the digest CacheTransform left in its place.
func isDigest(s bhv1.Status) bool {
	return len(s.Conditions) == 1 && s.Conditions[0].Type == digestCondition
}

// writes reports whether writing st over a status whose digest is digest would change
// it. It does not when the digest is of the status that writing st over itself leaves as
// it is: the same observed generation, the same conditions in the same order (a
// condition's transition time moves only with its status), the same hosts and the same
// certificates, compared as apply compares them.
func writes(digest string, st *translate.ObjectStatus, ingressRoute bool) bool {
	hosts, certs := (*[]string)(nil), (*[]bhv1.CertificateInfo)(nil)
	if ingressRoute {
		hosts, certs = &st.Hosts, &st.Certificates
	}
	return !hmac.Equal([]byte(digest), []byte(statusDigest(st.Generation, st.Conditions, hosts, certs)))
}

// statusDigest is the keyed digest of what apply compares in a status: everything but
// the conditions' transition times and the certificates' subjects. hosts and certs are
// nil for kinds without them.
func statusDigest(generation int64, conds []metav1.Condition, hosts *[]string, certs *[]bhv1.CertificateInfo) string {
	return keyedDigest(digestKey, digestInput(generation, conds, hosts, certs))
}

func keyedDigest(key, input []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(input)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// digestInput encodes the fields, each string with its length, so that no two statuses
// give the same bytes.
func digestInput(generation int64, conds []metav1.Condition, hosts *[]string, certs *[]bhv1.CertificateInfo) []byte {
	b := make([]byte, 0, 512)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	num(generation)
	num(int64(len(conds)))
	for _, c := range conds {
		str(c.Type)
		str(string(c.Status))
		str(c.Reason)
		str(c.Message)
		num(c.ObservedGeneration)
	}
	if hosts != nil {
		num(int64(len(*hosts)))
		for _, h := range *hosts {
			str(h)
		}
	} else {
		num(-1)
	}
	if certs != nil {
		num(int64(len(*certs)))
		for _, c := range *certs {
			str(c.SHA256)
			str(string(c.Use))
			str(c.Source)
			num(c.NotAfter.Unix())
			num(int64(c.NotAfter.Nanosecond()))
		}
	} else {
		num(-1)
	}
	return b
}
