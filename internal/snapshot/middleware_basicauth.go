package snapshot

// BasicAuth admits requests whose Basic credentials match one of Users; others get 401
// with a challenge naming Realm.
type BasicAuth struct {
	Realm string `json:"realm"`
	// Users maps a user name to its htpasswd hash (bcrypt, {SHA} or MD5-crypt); translate
	// has checked every hash is of a kind the data plane verifies. Hashes, never passwords,
	// and they stay in the JSON so that a changed Secret changes the snapshot's hash.
	Users        map[string]string `json:"users"`
	RemoveHeader bool              `json:"removeHeader,omitempty"`
	HeaderField  string            `json:"headerField,omitempty"`
}
