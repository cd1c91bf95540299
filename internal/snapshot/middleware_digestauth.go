package snapshot

// DigestAuth admits requests authenticated with HTTP Digest (MD5, qop=auth) as one of
// Users; others get 401 with a challenge naming Realm.
type DigestAuth struct {
	Realm string `json:"realm"`
	// Users maps a user name to HA1 = MD5(user:realm:password) in hex, for Realm only
	// (translate drops the other realms' lines, with a warning). In the JSON so that a
	// changed Secret changes the snapshot's hash.
	Users        map[string]string `json:"users"`
	RemoveHeader bool              `json:"removeHeader,omitempty"`
	HeaderField  string            `json:"headerField,omitempty"`
}
