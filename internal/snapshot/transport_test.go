package snapshot

import (
	"maps"
	"testing"
)

func TestChangedTransports(t *testing.T) {
	tr := func(id, hash string) *Transport { return &Transport{ID: id, Hash: hash} }
	byID := func(ts ...*Transport) map[string]*Transport {
		out := map[string]*Transport{}
		for _, t := range ts {
			out[t.ID] = t
		}
		return out
	}
	for _, c := range []struct {
		name string
		a, b map[string]*Transport
		want map[string]bool
	}{
		{"none", nil, nil, nil},
		{"the same", byID(tr("x", "1"), tr("y", "1")), byID(tr("x", "1"), tr("y", "1")), nil},
		{"added", byID(tr("x", "1")), byID(tr("x", "1"), tr("y", "1")), map[string]bool{"y": true}},
		{"removed", byID(tr("x", "1"), tr("y", "1")), byID(tr("x", "1")), map[string]bool{"y": true}},
		{"another hash", byID(tr("x", "1"), tr("y", "1")), byID(tr("x", "1"), tr("y", "2")), map[string]bool{"y": true}},
		{"one replaced by another", byID(tr("x", "1"), tr("y", "1")), byID(tr("x", "1"), tr("z", "1")), map[string]bool{"y": true, "z": true}},
		{"changed and removed", byID(tr("x", "1"), tr("y", "1")), byID(tr("x", "2")), map[string]bool{"x": true, "y": true}},
	} {
		if got := ChangedTransports(c.a, c.b); !maps.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRouteUsesTransport(t *testing.T) {
	via := func(id string) *Backend { return &Backend{Transport: id} }
	r := &HTTPRoute{Backends: []*Backend{via(""), via("own")},
		Middlewares: []*Middleware{{Chain: &Chain{Middlewares: []*Middleware{{ForwardAuth: &ForwardAuth{Server: via("auth")}}}}}, {Errors: &ErrorPage{Service: via("pages")}}}}
	for id, want := range map[string]bool{"own": true, "auth": true, "pages": true, "other": false} {
		if got := r.UsesTransport(map[string]bool{id: true}); got != want {
			t.Errorf("uses %s: %v, want %v", id, got, want)
		}
	}
	if r.UsesTransport(nil) {
		t.Error("a route uses a transport of none")
	}
}
