package status

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// announce reports on an object read from one of Traefik's API groups, which has no status
// of ours to write: an Event on it when its Ready condition changes — a Warning naming the
// fields it sets that Bridgehead does not implement, or why else it is not served; a
// Normal one once it serves. A new leadership term announces the current state once.
func (w *Writer) announce(ctx context.Context, k translate.Key, st *translate.ObjectStatus) error {
	ready := st.Condition(bhv1.ConditionReady)
	if ready == nil || w.Recorder == nil {
		return nil
	}
	// The group is part of what was said: the same name in the other Traefik group is
	// another object, announced on its own.
	said := st.APIGroup + "|" + string(ready.Status) + "|" + ready.Reason + "|" + ready.Message
	if w.announced[k] == said {
		return nil
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(schema.GroupVersionKind{Group: st.APIGroup, Version: "v1alpha1", Kind: k.Kind})
	if err := w.Client.Get(ctx, types.NamespacedName{Namespace: k.Namespace, Name: k.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // deleted since the build
		}
		return err
	}
	typ := corev1.EventTypeNormal
	if ready.Status != "True" {
		typ = corev1.EventTypeWarning
	}
	w.Recorder.Eventf(obj, nil, typ, ready.Reason, "Translate", "%s", truncate(fmt.Sprintf("Ready=%s: %s", ready.Status, ready.Message), 1000))
	w.announced[k] = said
	return nil
}
