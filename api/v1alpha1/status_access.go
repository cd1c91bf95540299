package v1alpha1

// Every Bridgehead kind has CommonStatus: the status writer reaches the common part of its
// status (conditions, observedGeneration) through it, so a new kind needs no case there.
// (The interface lives with its user, internal/status: controller-gen refuses interface
// types in an API package.)

// CommonStatus returns the conditions and observedGeneration of the status.
func (o *IngressRoute) CommonStatus() *Status { return &o.Status.Status }

// CommonStatus returns the status.
func (o *IngressRouteTCP) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *TLSOption) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *TLSStore) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *ServersTransport) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *ServersTransportTCP) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *Middleware) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *MiddlewareTCP) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *TraefikService) CommonStatus() *Status { return &o.Status }

// CommonStatus returns the status.
func (o *IngressRouteUDP) CommonStatus() *Status { return &o.Status }
