// Package manifests is standalone mode's source of inputs: a folder of the very YAML a user
// would `kubectl apply` (a "cluster in a folder"), read into translate.Inputs and watched
// for changes.
//
// Bridgehead's own kinds are admitted as the API server would admit them: unknown fields
// are refused (kubectl's strict field validation), defaults from the CRD schema are set,
// and the OpenAPI schema and the CEL rules (x-kubernetes-validations) of the embedded CRDs
// are checked with the API server's own code, so a document gets the message
// `kubectl apply` would print. Traefik manifests (traefik.io/v1alpha1 and
// traefik.containo.us/v1alpha1) are read as Bridgehead's kinds; a field of theirs that
// Bridgehead does not implement is recorded in Inputs.Unsupported with a hint
// (traefikfields.go), and translate then refuses the object (not Ready, not served) rather
// than serve it without the field.
//
// A document that cannot be used becomes a Problem naming its file, document and field;
// it never stops the others from loading.
package manifests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Result is one read of a folder.
type Result struct {
	Inputs *translate.Inputs
	// Problems are documents that could not be used, each with file, document index and
	// field path. An invalid document never stops the valid ones.
	Problems []Problem
	// Origin says where each object came from, for messages: "quickstart/route.yaml#2".
	Origin *Origins
	// Load numbers the loads of one watched folder from 1; 0 for a load that remembers
	// nothing. When Load is above 1, OriginChanged holds every key of Origin whose entry
	// is new or may differ from the one in load Load-1's Origin: the other keys have the
	// entry they had then. A reader that showed the last load's origins (serve's table)
	// then looks up only these instead of every object's.
	Load          uint64
	OriginChanged []translate.Key
}

// Problem is a document, or a part of one, that could not be used.
type Problem struct {
	// File is the path relative to the folder, with forward slashes.
	File string
	// Doc is the 1-based index of the document in the file (counting non-empty documents
	// only); zero when the problem is with the file as a whole.
	Doc int
	// Field is the JSON path of the offending field, empty for the document as a whole.
	Field string
	// Message says what is wrong, in the API server's words where it has some.
	Message string
	// UnknownKind: the document is of a kind the loader does not read (a Deployment, say),
	// which a reader of only some kinds (bridgehead migrate) may pass over.
	UnknownKind bool
}

// String formats the problem as "quickstart/route.yaml#2 spec.routes[0].services[0].port: <message>".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Doc > 0 {
		b.WriteString("#")
		b.WriteString(strconv.Itoa(p.Doc))
	}
	if p.Field != "" {
		b.WriteString(" ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Kinds of core objects, as they appear in keys.
const (
	KindSecret        = "Secret"
	KindConfigMap     = "ConfigMap"
	KindService       = "Service"
	KindEndpointSlice = "EndpointSlice"
	// KindNamespace: Namespaces are read for their labels (a Gateway listener's
	// allowedRoutes namespace selector).
	KindNamespace = "Namespace"
)

// API groups read as Bridgehead's own.
const (
	traefikGroup       = "traefik.io"
	traefikLegacyGroup = "traefik.containo.us"
)

// ourKinds are the CRD kinds, in gateway.bridgehead.dev and in Traefik's groups.
var ourKinds = translate.OurKinds()

// epoch is the creation time of the first object of a folder read afresh; the following
// documents are younger in folder order, so that translate's "oldest wins" is file order,
// stable across reloads (created.go).
var epoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Load reads every *.yaml and *.yml file under dir (recursively, sorted, skipping hidden
// files and directories), multi-document. The error is only for a dir that cannot be read;
// everything wrong inside it is a Problem.
//
// Kustomize files (kustomization.yaml, or any document in kustomize.config.k8s.io) are
// build instructions rather than objects, and are skipped. Symlinked files are read
// through (a mounted ConfigMap is a folder of symlinks); symlinked directories are not
// followed.
func Load(dir string) (*Result, error) { return loadRemembering(dir, nil, nil) }

// loadRemembering is Load, reusing what m remembers of earlier loads of dir (m may be nil).
// stamps, from the scan that saw the change (nil: none), let it skip reading the files
// whose stamp is the one they had when m last read them.
func loadRemembering(dir string, m *memo, stamps fingerprint) (*Result, error) {
	if err := ourSchemas.load(); err != nil {
		return nil, fmt.Errorf("embedded CRDs: %w", err)
	}
	files, problems, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	size := m.lastDocuments() // sizes the maps; Origin is derived from the last load's when there is one
	if m != nil && m.origin != nil {
		size = 0
	}
	l := &loader{
		ctx:      context.Background(),
		res:      newResultFor(size),
		memo:     m,
		versions: true,
	}
	l.res.Inputs.Reserve(m.lastSizes())
	if m != nil {
		l.res.Load = m.load + 1
	}
	l.res.Problems = append(l.res.Problems, problems...)
	read := make([][]*doc, 0, len(files))
	for _, f := range files {
		st := stamps[f.rel]
		docs, unchanged := m.unchangedFile(f.rel, st)
		if !unchanged {
			data, err := os.ReadFile(f.path)
			if err != nil {
				l.res.Problems = append(l.res.Problems, Problem{File: f.rel, Message: err.Error()})
				continue
			}
			docs = splitDocuments(f.rel, data)
		}
		m.storeFile(f.rel, st, docs)
		read = append(read, docs)
	}
	placeDocuments(read)
	before := slices.Clone(l.res.Problems) // the listing's and the reads'
	// The last load's Origin, less the keys of the documents it no longer has, is this
	// load's as far as the documents kept (an unchanged file's) go: they claim their keys
	// again without a look-up (see claim). At 10,000 objects, making the map afresh was a
	// tenth of a change's CPU; it is shared, not copied (see Origins).
	if m != nil && m.origin != nil {
		l.res.Origin = m.origin.derive()
		for _, d := range m.releasedDocs() {
			if d.claimedIn == l.res.Load-1 {
				l.res.Origin.Delete(d.claimedKey)
			}
		}
		l.reclaim = true
	}
	for _, docs := range read {
		l.documents(docs)
	}
	if l.reclaim && (l.collided || l.res.Origin.Len() != l.claims) {
		// A new document claimed a key the derived origins had (which came first is not
		// known there), or they hold a key no document claimed: load again without them.
		l.res = newResultFor(l.res.Origin.Len())
		l.res.Inputs.Reserve(m.lastSizes())
		l.res.Load, l.res.Problems = m.load+1, before
		l.reclaim, l.collided, l.claims, l.duplicates = false, false, 0, false
		for _, docs := range read {
			l.documents(docs)
		}
	}
	if m != nil {
		m.origin = l.res.Origin
		if l.duplicates {
			m.origin = nil
		}
	}
	m.loaded(l.res.Inputs)
	return l.res, nil
}

// LoadStream reads one multi-document YAML stream (a file, or what `kubectl get -o yaml`
// prints on standard input: kind List documents are read item by item) as Load reads a
// folder's files; name is the stream's name in messages.
func LoadStream(name string, data []byte) (*Result, error) {
	if err := ourSchemas.load(); err != nil {
		return nil, fmt.Errorf("embedded CRDs: %w", err)
	}
	l := &loader{ctx: context.Background(), res: newResult(), versions: true}
	l.files(map[string][]byte{name: data})
	return l.res, nil
}

func newResult() *Result { return newResultFor(0) }

// newResultFor is a Result sized for about objects objects.
func newResultFor(objects int) *Result {
	return &Result{
		Inputs: &translate.Inputs{Unsupported: map[translate.Key][]translate.UnsupportedField{}, APIGroups: map[translate.Key]string{}},
		Origin: NewOrigins(objects),
	}
}

type loader struct {
	ctx     context.Context
	res     *Result
	created time.Duration // the creation time (after epoch) of the document at hand
	memo    *memo         // nil: nothing is remembered across loads
	// versions: every object's resourceVersion is its document's content hash (see
	// contentVersion). Set for files; objects that come from the API server
	// (LoadObjects) keep the server's.
	versions bool
	// reclaim: res.Origin starts as the last load's, less the keys of the documents gone
	// (loadRemembering). claims counts the keys this load claimed (a document's object
	// whose key stays in Origin); collided records a claim that found its key taken while
	// reclaiming, duplicates any claim refused.
	reclaim, collided, duplicates bool
	claims                        int
}

// contentVersion is the resourceVersion of an object read from a file: a hash of its
// document. A folder has no API server to count versions, and whatever resourceVersion
// the file holds (kubectl get -o yaml writes one) says nothing about its content; with
// the hash, an unchanged document is the same version from one load to the next and any
// edit is a new one, which is what translate's memo and lastgood go by.
func (l *loader) contentVersion(d *doc) string {
	if !l.versions {
		return ""
	}
	sum := sha256.Sum256([]byte(d.data))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// doc is one non-empty document of a file.
type doc struct {
	file  string
	index int    // 1-based
	line  int    // first line of the document in the file, 1-based
	data  string // a substring of the file's text (see splitDocuments)
	// item is the path of an object inside a kind List document ("items[3]"), or "".
	item string
	// originText is origin's result, made on first use: an unchanged file's documents are
	// kept across loads (see memo), and every load records every object's origin.
	originText string
	// created is the document's creation time after epoch, and placed whether it has one
	// (placeDocuments): kept from load to load with the doc.
	created time.Duration
	placed  bool
	// conv is what the memo made of data, once a load has looked it up: a document of an
	// unchanged file then reaches it without hashing its bytes to find it again.
	conv *converted
	// claimedIn is the last load (Result.Load) in which the document's object was not a
	// duplicate, claiming claimedKey: a document of an unchanged file that claims the
	// same key again leaves its origin as it was (Result.OriginChanged).
	claimedIn  uint64
	claimedKey translate.Key
}

func (d *doc) origin() string {
	if d.originText == "" {
		d.originText = d.file + "#" + strconv.Itoa(d.index)
		if d.item != "" {
			d.originText += " " + d.item
		}
	}
	return d.originText
}

func (l *loader) problem(d *doc, fieldPath, format string, args ...any) {
	if d.item != "" {
		fieldPath = strings.TrimSuffix(d.item+"."+fieldPath, ".")
	}
	l.res.Problems = append(l.res.Problems, Problem{File: d.file, Doc: d.index, Field: fieldPath, Message: fmt.Sprintf(format, args...)})
}

// list reads the items of a kind List document (what `kubectl get -o yaml` prints) as
// documents of their own.
func (l *loader) list(d *doc, obj map[string]any) {
	items, ok := obj["items"].([]any)
	if !ok {
		if obj["items"] != nil {
			l.problem(d, "items", "items must be a list of objects")
		}
		return
	}
	for i, item := range items {
		sub := &doc{file: d.file, index: d.index, line: d.line, item: fmt.Sprintf("items[%d]", i)}
		data, err := json.Marshal(item)
		if err != nil {
			l.problem(sub, "", "%v", err)
			continue
		}
		sub.data = string(data)
		l.created = itemTime(d.created, i)
		l.document(sub)
	}
}

func (l *loader) fieldErrors(d *doc, errs field.ErrorList) {
	for _, e := range errs {
		f, msg := e.Field, e.ErrorBody()
		if f == "<nil>" {
			f = ""
			if e.Type == field.ErrorTypeInvalid && e.BadValue == nil {
				msg = e.Detail
			}
		}
		l.problem(d, f, "%s", msg)
	}
}

// files reads files (name -> content) in name order.
func (l *loader) files(byName map[string][]byte) {
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	read := make([][]*doc, 0, len(names))
	for _, name := range names {
		read = append(read, splitDocuments(name, byName[name]))
	}
	placeDocuments(read)
	for _, docs := range read {
		l.documents(docs)
	}
}

// documents reads one file's documents, placed (placeDocuments).
func (l *loader) documents(docs []*doc) {
	for _, d := range docs {
		if isKustomization(d.file) {
			return
		}
		l.created = d.created
		l.document(d)
	}
}

func (l *loader) document(d *doc) {
	c, remembered := l.memo.lookupDocOf(d)
	if remembered && c.admission != nil && c.admittedItem == d.item {
		// Admitted before, as the same List item: the checks below passed then and
		// chose the admission's family, and would again for the same text.
		l.replayAdmission(d, c.admission)
		return
	}
	// obj is the decoded document; nil until a path needs it (see converted).
	var obj map[string]any
	if !remembered {
		jsonData, err := yaml.YAMLToJSONStrict([]byte(d.data))
		if err != nil {
			l.problem(d, "", "invalid YAML: %s", yamlError(d, err))
			return
		}
		if err := utiljson.Unmarshal(jsonData, &obj); err != nil {
			l.problem(d, "", "a document must be a YAML mapping (an object with apiVersion, kind and metadata)")
			return
		}
		c = &converted{json: jsonData, null: obj == nil}
		c.apiVersion, _ = obj["apiVersion"].(string)
		c.kind, _ = obj["kind"].(string)
		if c.apiVersion != "" {
			c.gv, c.gvErr = schema.ParseGroupVersion(c.apiVersion)
		}
		l.memo.storeDocOf(d, c)
	}
	if c.null {
		return
	}
	apiVersion, kind := c.apiVersion, c.kind
	if apiVersion == "" {
		l.problem(d, "apiVersion", "apiVersion not set")
	}
	if kind == "" {
		l.problem(d, "kind", "kind not set")
	}
	if apiVersion == "" || kind == "" {
		return
	}
	gv := c.gv
	if err := c.gvErr; err != nil {
		l.problem(d, "apiVersion", "%v", err)
		return
	}
	gvk := gv.WithKind(kind)

	switch gv.Group {
	case bhv1.GroupName:
		if gv.Version != bhv1.GroupVersion.Version || !isOurKind(kind) {
			l.unknownKind(d, gvk)
			return
		}
		l.custom(d, c, obj, kind, "")
	case traefikGroup, traefikLegacyGroup:
		if gv.Version != "v1alpha1" || !isOurKind(kind) {
			why := "it is not a kind Bridgehead reads"
			if hint, ok := unreadTraefikKinds[kind]; ok && gv.Version == "v1alpha1" {
				why = hint
			}
			l.problem(d, "kind", "%s %s is not served: %s. Bridgehead reads %s in %s (or %s) as its own", apiVersion, kind, why,
				strings.Join(ourKinds, ", "), traefikGroup+"/v1alpha1", traefikLegacyGroup+"/v1alpha1")
			return
		}
		l.custom(d, c, obj, kind, gv.Group)
	case "":
		switch {
		case gv.Version == "v1" && (kind == KindSecret || kind == KindConfigMap || kind == KindService || kind == KindNamespace):
			l.core(d, c, obj, gvk)
		case gv.Version == "v1" && kind == "List" && d.item == "":
			l.list(d, decoded(c, obj))
		default:
			l.unknownKind(d, gvk)
		}
	case discoveryv1.GroupName:
		if gv.Version == "v1" && kind == KindEndpointSlice {
			l.core(d, c, obj, gvk)
			return
		}
		l.unknownKind(d, gvk)
	case "networking.k8s.io":
		if gv.Version == "v1" && (kind == "Ingress" || kind == "IngressClass") {
			l.core(d, c, obj, gvk)
			return
		}
		if gv.Version == "v1beta1" && (kind == "Ingress" || kind == "IngressClass") {
			l.legacy(d, decoded(c, obj), gvk)
			return
		}
		l.unknownKind(d, gvk)
	case "extensions":
		if legacyIngressVersions[apiVersion] && kind == "Ingress" {
			l.legacy(d, decoded(c, obj), gvk)
			return
		}
		l.unknownKind(d, gvk)
	case GatewayAPIGroup:
		if k, ok := translate.KindNamed(kind); ok && k.GatewayAPI() {
			l.admitOnce(d, c, func() *admission { return l.gatewayAPI(d, decoded(c, obj), gvk) })
			return
		}
		l.unknownKind(d, gvk)
	case "kustomize.config.k8s.io":
		// Build instructions for kustomize, not an object.
	default:
		l.unknownKind(d, gvk)
	}
}

// decoded returns obj, or decodes the remembered document when obj is nil. The document
// converted and decoded without error when it was remembered, so it does again.
func decoded(c *converted, obj map[string]any) map[string]any {
	if obj == nil {
		_ = utiljson.Unmarshal(jsonOf(c), &obj)
	}
	return obj
}

// jsonOf returns the document as JSON: an admitted document's JSON was dropped
// (admitOnce), and is converted again from its text.
func jsonOf(c *converted) []byte {
	if c.json == nil {
		data, _ := yaml.YAMLToJSONStrict([]byte(c.yaml))
		return data
	}
	return c.json
}

func isOurKind(kind string) bool {
	for _, k := range ourKinds {
		if k == kind {
			return true
		}
	}
	return false
}

func (l *loader) unknownKind(d *doc, gvk schema.GroupVersionKind) {
	l.problem(d, "kind", "no matches for kind %q in version %q; standalone mode reads %s/%s (%s), v1 Secret, ConfigMap, Service and Namespace, discovery.k8s.io/v1 EndpointSlice, networking.k8s.io/v1 Ingress and IngressClass (and the removed extensions/v1beta1 and networking.k8s.io/v1beta1 Ingress, converted), %s (%s)",
		gvk.Kind, gvk.GroupVersion().String(), bhv1.GroupName, bhv1.GroupVersion.Version, strings.Join(ourKinds, ", "), GatewayAPIGroup+"/v1", strings.Join(gatewayKinds(), ", "))
	l.res.Problems[len(l.res.Problems)-1].UnknownKind = true
}

// prepareMeta does what kubectl and the API server do to a new object's metadata, and
// validates it.
func (l *loader) prepareMeta(meta *metav1.ObjectMeta, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	if meta.Namespace == "" {
		meta.Namespace = metav1.NamespaceDefault
	}
	meta.Generation = 1
	meta.CreationTimestamp = l.creationTime()
	var errs field.ErrorList
	if meta.Name == "" && meta.GenerateName != "" {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "generateName"), meta.GenerateName, "cannot use generate name with apply; set metadata.name"))
		return errs
	}
	return append(errs, apivalidation.ValidateObjectMeta(meta, true, nameFn, field.NewPath("metadata"))...)
}

// prepareClusterMeta is prepareMeta for a cluster-scoped object (a Namespace, a
// GatewayClass): a namespace written on it is dropped, as kubectl apply drops it.
func (l *loader) prepareClusterMeta(meta *metav1.ObjectMeta, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	meta.Namespace = ""
	meta.Generation = 1
	meta.CreationTimestamp = l.creationTime()
	if meta.Name == "" && meta.GenerateName != "" {
		return field.ErrorList{field.Invalid(field.NewPath("metadata", "generateName"), meta.GenerateName, "cannot use generate name with apply; set metadata.name")}
	}
	return apivalidation.ValidateObjectMeta(meta, false, nameFn, field.NewPath("metadata"))
}

// claim records the object's origin, or reports it as a duplicate of an earlier one.
func (l *loader) claim(d *doc, key translate.Key) bool {
	if l.reclaim && d.claimedIn == l.res.Load-1 && d.claimedKey == key {
		// An unchanged file's document claims what it claimed in the last load, which had
		// no duplicate: the origins derived from that load's have the key, with this origin.
		d.claimedIn = l.res.Load
		l.claims++
		return true
	}
	if first, ok := l.res.Origin.Get(key); ok {
		l.collided = l.collided || l.reclaim
		l.duplicates = true
		l.problem(d, "metadata.name", "%s %s/%s is already defined in %s; this duplicate is ignored", key.Kind, key.Namespace, key.Name, first)
		return false
	}
	l.claims++
	l.res.Origin.Set(key, d.origin())
	if m := l.memo; m != nil {
		// An unchanged file's documents are the same docs from load to load: a document
		// that claimed this key in the last load as well gave it the same origin then.
		if d.claimedIn != l.res.Load-1 || d.claimedKey != key {
			l.res.OriginChanged = append(l.res.OriginChanged, key)
		}
		d.claimedIn, d.claimedKey = l.res.Load, key
	}
	return true
}

// LoadObjects reads objects that come from elsewhere than a folder — in cluster mode, the
// Traefik-group objects the controller watches — through the same path as a folder's
// documents: Traefik groups read as ours, fields Bridgehead lacks recorded in
// Inputs.Unsupported, and the CRD schemas' validation. Each object's name is its origin in messages.
func LoadObjects(objs map[string][]byte) (*Result, error) {
	if err := ourSchemas.load(); err != nil {
		return nil, fmt.Errorf("embedded CRDs: %w", err)
	}
	l := &loader{
		ctx: context.Background(),
		res: newResult(),
	}
	l.files(objs)
	return l.res, nil
}
