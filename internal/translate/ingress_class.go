package translate

import (
	networkingv1 "k8s.io/api/networking/v1"
)

// Which Ingresses are the gateway's: the IngressClass named by the flags, the legacy
// class annotation, the cluster's default class.

// MayServeIngress is a cheap pre-filter for watches: false means the Ingress names
// another class and can never be served by the gateway of className, whatever the
// IngressClasses say. True means it may be (translate decides).
func MayServeIngress(ing *networkingv1.Ingress, className string) bool {
	if className == "" {
		className = DefaultIngressClass
	}
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		return v == className
	}
	return ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == className
}

// ingressClassState is what the IngressClass named in the flags says.
type ingressClassState struct {
	name      string
	exists    bool
	ours      bool // spec.controller is IngressController
	isDefault bool
	other     string // the controller of a same-named class that is not ours
	// otherDefault: another IngressClass is the cluster's default, so an Ingress of no
	// class is its controller's.
	otherDefault bool
	withoutClass bool // Options.IngressWithoutClass
}

func (t *translator) ingressClass() ingressClassState {
	st := ingressClassState{name: t.opts.IngressClass, withoutClass: t.opts.IngressWithoutClass}
	if st.name == "" {
		st.name = DefaultIngressClass
	}
	for _, c := range t.in.IngressClasses {
		if c.Name != st.name {
			st.otherDefault = st.otherDefault || c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true"
			continue
		}
		st.exists = true
		st.ours = c.Spec.Controller == IngressController
		st.isDefault = c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true"
		if !st.ours {
			st.other = c.Spec.Controller
		}
	}
	return st
}

// serves decides whether an Ingress is ours: the legacy annotation names our class; or
// spec.ingressClassName does and that IngressClass (if it exists) is ours; or neither is
// set and our IngressClass is the cluster's default, or (--ingress-without-class) no
// IngressClass is.
func (cls ingressClassState) serves(ing *networkingv1.Ingress) bool {
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		return v == cls.name
	}
	if n := ing.Spec.IngressClassName; n != nil {
		return *n == cls.name && (cls.ours || !cls.exists)
	}
	return cls.ours && cls.isDefault || cls.classlessUnowned() && cls.withoutClass
}

// classlessUnowned: an Ingress of no class belongs to no controller, as no IngressClass is
// the cluster's default.
func (cls ingressClassState) classlessUnowned() bool {
	return !cls.otherDefault && (!cls.ours || !cls.isDefault)
}

// hasNoClass: neither spec.ingressClassName nor the legacy annotation is set.
func hasNoClass(ing *networkingv1.Ingress) bool {
	_, annotated := ing.Annotations[AnnotationIngressClass]
	return !annotated && ing.Spec.IngressClassName == nil
}
