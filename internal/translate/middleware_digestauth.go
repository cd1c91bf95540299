package translate

import (
	"fmt"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// digestAuth compiles spec.digestAuth. Its users are htdigest lines of the Secret's one
// key; only those of the Middleware's realm can ever log in (Traefik looks users up by
// name and realm), so lines of other realms are named in a warning, and a list with no
// user of the realm makes the Middleware not Ready instead of locking everyone out.
func (t *translator) digestAuth(rep *report, k nsName, d *bhv1.DigestAuth) *snapshot.DigestAuth {
	out := &snapshot.DigestAuth{Realm: d.Realm, RemoveHeader: d.RemoveHeader, HeaderField: d.HeaderField}
	if out.Realm == "" {
		out.Realm = defaultAuthRealm
	}
	const field = "spec.digestAuth.secret"
	if d.Secret == "" {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s is empty; name the Secret that holds the users", k, field))
		return out
	}
	s, f := t.authSecret(rep, k, field, d.Secret)
	var key string
	var data []byte
	if f == nil {
		key, data, f = onlyKey(k, field, s)
	}
	if f != nil {
		rep.refErrorDetail(f.reason, f.message, f.detail)
		return out
	}
	sk := nsName{k.namespace, d.Secret}
	list, err := htpasswd.ParseDigest(data)
	if err != nil {
		rep.refError(bhv1.ReasonInvalidSecret, fmt.Sprintf("Middleware %s: %s: Secret %s key %s %v", k, field, sk, key, err))
		return out
	}
	out.Users = map[string]string{}
	var elsewhere []string
	for _, u := range list {
		if u.Realm != out.Realm {
			elsewhere = append(elsewhere, fmt.Sprintf("%s (realm %q)", u.User, u.Realm))
			continue
		}
		out.Users[u.User] = u.HA1
	}
	sort.Strings(elsewhere)
	if len(out.Users) == 0 {
		rep.refError(bhv1.ReasonInvalidSecret, fmt.Sprintf("Middleware %s: %s: Secret %s key %s lists no user of realm %q, so nobody could log in; write lines name:%s:hash (htdigest FILE %q name), or set spec.digestAuth.realm to the users' realm",
			k, field, sk, key, out.Realm, out.Realm, out.Realm))
		return out
	}
	if len(elsewhere) > 0 {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: Secret %s key %s lists users of other realms than %q, who cannot log in here: %s",
			k, sk, key, out.Realm, strings.Join(elsewhere, ", ")))
	}
	return out
}
