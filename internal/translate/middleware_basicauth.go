package translate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// defaultAuthRealm is Traefik's realm when none is set.
const defaultAuthRealm = "traefik"

// basicAuth compiles spec.basicAuth, reading its users from the Secret as Traefik does. A
// missing or unusable Secret is a reference error: the Middleware is not Ready and every
// route that lists it answers 503, so nobody gets in unchecked.
func (t *translator) basicAuth(rep *report, k nsName, b *bhv1.BasicAuth) *snapshot.BasicAuth {
	out := &snapshot.BasicAuth{Realm: b.Realm, RemoveHeader: b.RemoveHeader, HeaderField: b.HeaderField}
	if out.Realm == "" {
		out.Realm = defaultAuthRealm
	}
	if b.Secret == "" {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.basicAuth.secret is empty; name the Secret that holds the users", k))
		return out
	}
	users, f := t.authUsers(rep, k, "spec.basicAuth.secret", b.Secret)
	if f != nil {
		rep.refErrorDetail(f.reason, f.message, f.detail)
		return out
	}
	out.Users = users
	return out
}

// authUsers reads the users of a basicAuth Secret the way Traefik does: a
// kubernetes.io/basic-auth Secret is one user, its password kept as a {SHA} hash; any
// other Secret holds one key, an htpasswd list. Messages name the Secret, the key and
// line, never a hash.
func (t *translator) authUsers(rep *report, k nsName, field, name string) (map[string]string, *finding) {
	s, f := t.authSecret(rep, k, field, name)
	if f != nil {
		return nil, f
	}
	sk := nsName{k.namespace, name}
	if s.Type == corev1.SecretTypeBasicAuth {
		user, pw := s.Data[corev1.BasicAuthUsernameKey], s.Data[corev1.BasicAuthPasswordKey]
		if len(user) == 0 || pw == nil {
			return nil, &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Middleware %s: %s: Secret %s is of type %s but lacks the username or password key", k, field, sk, corev1.SecretTypeBasicAuth)}
		}
		return map[string]string{string(user): htpasswd.SHA1Hash(pw)}, nil
	}
	key, data, f := onlyKey(k, field, s)
	if f != nil {
		return nil, f
	}
	users, err := htpasswd.Parse(data)
	if err != nil {
		return nil, &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Middleware %s: %s: Secret %s key %s %v", k, field, sk, key, err)}
	}
	if len(users) == 0 {
		return nil, &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Middleware %s: %s: Secret %s key %s lists no users; add lines name:hash (htpasswd -nB name)", k, field, sk, key)}
	}
	return users, nil
}

// authSecret finds the Secret of a basicAuth or digestAuth Middleware.
func (t *translator) authSecret(rep *report, k nsName, field, name string) (*corev1.Secret, *finding) {
	sk := nsName{k.namespace, name}
	t.noteRefusedData(rep, KindSecret, sk)
	s, ok := t.secrets[sk]
	if !ok {
		return nil, &finding{reason: bhv1.ReasonNotFound, detail: sk.String(),
			message: fmt.Sprintf("Middleware %s: %s: Secret %q not found in namespace %s; create it with the users (kubectl create secret generic %s --from-file=users=./users-file)", k, field, name, k.namespace, name)}
	}
	return s, nil
}

// onlyKey is the one key of a users Secret: Traefik requires exactly one, whatever its name.
func onlyKey(k nsName, field string, s *corev1.Secret) (string, []byte, *finding) {
	if len(s.Data) != 1 {
		return "", nil, &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Middleware %s: %s: Secret %s/%s has %d keys; it must hold exactly one, the user list (conventionally the key users), as Traefik requires", k, field, s.Namespace, s.Name, len(s.Data))}
	}
	for key, data := range s.Data {
		return key, data, nil
	}
	return "", nil, nil
}
