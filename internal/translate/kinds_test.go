package translate

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// TestEveryInputListIsARegisteredKind: an Inputs list that is not in Kinds would be missed
// by every loop over Kinds (the cluster reader, the folder loader, the watches, last-good
// carrying), as MiddlewareTCP once was by Visit and ShallowCopy.
func TestEveryInputListIsARegisteredKind(t *testing.T) {
	in := &Inputs{}
	registered := map[uintptr]string{}
	for _, k := range Kinds {
		before := reflect.ValueOf(in).Elem()
		// Append one object and find the field that grew.
		k.Append(in, k.NewObject())
		found := ""
		for i := 0; i < before.NumField(); i++ {
			f := before.Field(i)
			if f.Kind() == reflect.Slice && f.Len() == 1 {
				found = before.Type().Field(i).Name
				registered[f.Addr().Pointer()] = k.Name()
			}
		}
		if found == "" {
			t.Errorf("kind %s appends to no Inputs list", k.Name())
		}
		*in = Inputs{}
	}
	v := reflect.ValueOf(in).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Pointer {
			continue
		}
		if _, isObject := reflect.New(f.Type().Elem().Elem()).Interface().(metav1.Object); !isObject {
			continue
		}
		if _, ok := registered[f.Addr().Pointer()]; !ok {
			t.Errorf("Inputs.%s holds objects but no Kind registers it: add it to Kinds", v.Type().Field(i).Name)
		}
	}
}

// TestVisitAndShallowCopyReachEveryKind: replacing an object through Visit works for every
// kind, and on a shallow copy it leaves the original lists alone.
func TestVisitAndShallowCopyReachEveryKind(t *testing.T) {
	in := &Inputs{}
	for _, k := range Kinds {
		o := k.NewObject()
		o.SetName("old")
		k.Append(in, o)
	}
	cp := in.ShallowCopy()
	cp.Visit(func(key Key, o metav1.Object) metav1.Object {
		k, _ := KindNamed(key.Kind)
		n := k.NewObject()
		n.SetName("new")
		return n
	})
	for _, k := range Kinds {
		if got := k.Objects(cp)[0].GetName(); got != "new" {
			t.Errorf("Visit did not replace the %s", k.Name())
		}
		if got := k.Objects(in)[0].GetName(); got != "old" {
			t.Errorf("Visit on a shallow copy changed the original %s list", k.Name())
		}
	}
}

// TestOurKindsHaveAStatusOfOurs: the status writer reaches every kind of ours through
// CommonStatus.
func TestOurKindsHaveAStatusOfOurs(t *testing.T) {
	for _, k := range Kinds {
		if _, ok := k.NewObject().(interface{ CommonStatus() *bhv1.Status }); ok != k.Ours() {
			t.Errorf("kind %s: has CommonStatus %v, is ours %v", k.Name(), ok, k.Ours())
		}
	}
}
