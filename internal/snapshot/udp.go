package snapshot

// UDPRoute is one route of an IngressRouteUDP: every datagram of its entry points goes to
// its backends. UDP has no rule to match; an entry point has at most one route.
type UDPRoute struct {
	// ID is unique and stable: namespace/name/index of the route in its object.
	ID string `json:"id"`
	// Source is the IngressRouteUDP.
	Source     Ref `json:"source"`
	RouteIndex int `json:"routeIndex"`
	// EntryPoints are the UDP entry points the route serves: the ones it names, or every
	// UDP entry point when it names none. Empty when the gateway's entry points were not
	// known to translate (lint, diagnose): then the route's own list, or all, applies.
	EntryPoints []string      `json:"entryPoints,omitempty"`
	Backends    []*UDPBackend `json:"backends,omitempty"`
	// Failure, when set, drops every datagram of the route.
	Failure *Failure `json:"failure,omitempty"`
}

// UDPBackend is one weighted Service of a UDP route, resolved to endpoints of a UDP port.
type UDPBackend struct {
	Service   Ref        `json:"service"`
	Port      string     `json:"port"`
	Weight    int        `json:"weight"`
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	Failure   *Failure   `json:"failure,omitempty"`
}
