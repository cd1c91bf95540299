package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// statusCommand is `bridgehead status --config-dir DIR [--watch]`: the table the gateway
// prints, on demand. When the gateway serving DIR answers on its admin address
// (--admin-address, as given to serve), the table is that gateway's, with the verdicts of
// real handshakes and requests; otherwise it is translate's alone, and says so. --watch
// prints it again whenever it changes, until interrupted.
func statusCommand(args []string, stdout, stderr io.Writer) int {
	watch, rest := cutBoolFlag(args, "watch")
	f, err := parseServeFlags(rest, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if f.configDir == "" {
		fmt.Fprintln(stderr, "status: --config-dir is required (in a cluster, use kubectl get ingressroutes, or the admin status page)")
		return 2
	}
	dir, err := filepath.Abs(f.configDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	admin := dialable(f.proxy.Admin)
	render := func() (string, bool, error) {
		var out bytes.Buffer
		live, err := fetchLiveStatus(admin, dir)
		if err == nil {
			fmt.Fprintf(&out, "live: the gateway serving %s (admin %s), with the verdicts of real requests\n", dir, admin)
			broken := printStatus(&out, live.statuses, live.problems, live.origin)
			return out.String(), broken, nil
		}
		res, lerr := manifests.Load(f.configDir)
		if lerr != nil {
			return "", true, lerr
		}
		opts := f.translateOptions()
		opts.Now = time.Now()
		_, statuses := translate.Translate(res.Inputs, opts)
		// The Gateways' addresses as serve would publish them, from the listen addresses
		// given (not bound: no gateway answered).
		listen := map[string]string{"web": f.proxy.Web, "websecure": f.proxy.Websecure}
		for _, ep := range f.proxy.EntryPoints {
			listen[ep.Name] = ep.Address
		}
		gatewayAddresses(statuses, res.Inputs.Gateways, opts.ListenerPorts, listen)
		fmt.Fprintf(&out, "static: %v; translated from the folder alone (no verdicts of real requests)\n", err)
		broken := printStatus(&out, statuses, problemStrings(res.Problems), res.Origin)
		return out.String(), broken, nil
	}
	if !watch {
		text, broken, err := render()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprint(stdout, text)
		if broken {
			return 1
		}
		return 0
	}
	ctx, stop := signalContext()
	defer stop()
	last := ""
	for {
		text, _, err := render()
		if err != nil {
			text = err.Error() + "\n"
		}
		if text != last {
			fmt.Fprint(stdout, text)
			last = text
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
	}
}

// liveStatus is a running gateway's /status, as the table prints it.
type liveStatus struct {
	statuses translate.Statuses
	origin   *manifests.Origins
	problems []string
}

// fetchLiveStatus reads /status from the admin address, and fails unless the gateway
// there serves dir (another gateway, or none, must not pass for this folder's).
func fetchLiveStatus(admin, dir string) (*liveStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no gateway answers at %s", admin)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the gateway at %s answers /status with %s", admin, resp.Status)
	}
	var doc struct {
		ConfigDir string `json:"configDir"`
		Objects   []struct {
			Object string `json:"object"`
			Origin string `json:"origin"`
			translate.ObjectStatus
		} `json:"objects"`
		Problems []string `json:"problems"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("the gateway at %s: /status: %w", admin, err)
	}
	if doc.ConfigDir != dir {
		return nil, fmt.Errorf("the gateway at %s serves %q, not this folder", admin, doc.ConfigDir)
	}
	live := &liveStatus{statuses: translate.Statuses{}, origin: manifests.NewOrigins(len(doc.Objects)), problems: doc.Problems}
	for i := range doc.Objects {
		o := &doc.Objects[i]
		k, err := parseKey(o.Object)
		if err != nil {
			return nil, fmt.Errorf("the gateway at %s: /status: %w", admin, err)
		}
		live.statuses[k] = &o.ObjectStatus
		live.origin.Set(k, o.Origin)
	}
	return live, nil
}

// parseKey reads "Kind/namespace/name", as translate.Key.String writes it.
func parseKey(s string) (translate.Key, error) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) != 3 {
		return translate.Key{}, errors.New("object " + s + " is not Kind/namespace/name")
	}
	return translate.Key{Kind: parts[0], Namespace: parts[1], Name: parts[2]}, nil
}

// dialable turns a listen address into one to dial: ":9000" is 127.0.0.1:9000.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" && host != "0.0.0.0" && host != "::" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// cutBoolFlag removes a boolean flag of the status command from args (the others are
// serve's), and reports whether it was set.
func cutBoolFlag(args []string, name string) (bool, []string) {
	set := false
	var rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			switch strings.TrimLeft(a, "-") {
			case name, name + "=true":
				set = true
				continue
			case name + "=false":
				set = false
				continue
			}
		}
		rest = append(rest, a)
	}
	return set, rest
}
