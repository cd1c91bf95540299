package translate

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// TestErrorsServiceIsAReference: the Service of an errors Middleware is indexed as its
// reference, so that in a cluster a change to it (or its EndpointSlices) rebuilds.
func TestErrorsServiceIsAReference(t *testing.T) {
	k, _ := KindNamed(KindMiddleware)
	for _, tc := range []struct {
		svc  bhv1.ErrorPageService
		want string
	}{
		{bhv1.ErrorPageService{Name: "pages", Port: "80"}, "Service/shop/pages"},
		{bhv1.ErrorPageService{Name: "pages", Namespace: "errors", Port: "80"}, "Service/errors/pages"},
	} {
		mw := &bhv1.Middleware{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "mw"},
			Spec: bhv1.MiddlewareSpec{Errors: &bhv1.ErrorPage{Status: []string{"500"}, Service: tc.svc}}}
		if got := k.References(mw); !slices.Contains(got, tc.want) {
			t.Errorf("references %q; want %s among them", got, tc.want)
		}
	}
}

func TestParseStatusRanges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][2]int
		bad  bool
	}{
		{in: "404", want: [][2]int{{404, 404}}},
		{in: "500-599", want: [][2]int{{500, 599}}},
		{in: "404,418,500-599", want: [][2]int{{404, 404}, {418, 418}, {500, 599}}},
		{in: "599-500", bad: true},
		{in: "5xx", bad: true},
		{in: "99", bad: true},
		{in: "500-600", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseStatusRanges(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: %v, err %v; want error %v", tc.in, got, err, tc.bad)
			continue
		}
		for i, r := range got {
			if i >= len(tc.want) || r.Low != tc.want[i][0] || r.High != tc.want[i][1] {
				t.Errorf("%q: %v; want %v", tc.in, got, tc.want)
				break
			}
		}
	}
}
