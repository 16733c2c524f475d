// A TEST STAND-IN for the OpenTelemetry Operator's manager binary, for the local node only.
//
// The operator's module cannot be had from the Go module proxy, so its manager cannot be built
// here. The release manifest itself is real (applied by the otel_operator role, which swaps only
// the manager's image for this one), so the API server calls this program exactly as it would
// call the real manager:
//
//   - :8081 serves /healthz and /readyz (plain HTTP, the manifest's probes). /readyz answers 200
//     only while the webhook certificate can be loaded.
//   - :9443 serves the admission webhooks and the CRD conversion webhook over TLS, with the
//     certificate the otel_operator role made, mounted where the manifest mounts it
//     (/tmp/k8s-webhook-server/serving-certs/tls.crt and tls.key), re-read when it changes.
//   - Every AdmissionReview is answered allowed, with no patch: no defaulting, no validation,
//     no injection into Pods. The real operator's webhooks do all three.
//   - A ConversionReview (/convert) converts OpenTelemetryCollector objects between v1alpha1
//     and v1beta1: spec.config (a YAML string in v1alpha1, an object in v1beta1),
//     updateStrategy <-> daemonSetUpdateStrategy, v1alpha1's minReplicas/maxReplicas into the
//     autoscaler, and the target allocator's monitor selectors (a label map in v1alpha1, a label
//     selector in v1beta1). Every other field is copied as it is. A v1alpha1 config string is
//     read only when it is JSON (which is YAML): the standard library has no YAML parser, so
//     other YAML is refused with a message (the real operator parses any YAML).
//
// It reconciles nothing: no collector workload is made from an OpenTelemetryCollector.
// Standard library only; built by tools/localnode/operator_manager.py.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	certDir      = "/tmp/k8s-webhook-server/serving-certs"
	healthAddr   = ":8081"
	webhookAddr  = ":9443"
	maxBodyBytes = 16 << 20
)

// servingCert loads the key pair from its files, again whenever their bytes change (the kubelet
// replaces a mounted Secret's files when the role renews the certificate).
type servingCert struct {
	dir     string
	mu      sync.Mutex
	crt     []byte
	key     []byte
	current *tls.Certificate
}

func (s *servingCert) load() (*tls.Certificate, error) {
	crt, err := os.ReadFile(filepath.Join(s.dir, "tls.crt"))
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(s.dir, "tls.key"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil && bytes.Equal(crt, s.crt) && bytes.Equal(key, s.key) {
		return s.current, nil
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.dir, err)
	}
	s.crt, s.key, s.current = crt, key, &pair
	log.Printf("serving certificate loaded from %s", s.dir)
	return s.current, nil
}

func (s *servingCert) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.load()
}

type groupVersionKind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type admissionReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID       string           `json:"uid"`
		Kind      groupVersionKind `json:"kind"`
		Operation string           `json:"operation"`
		Namespace string           `json:"namespace"`
		Name      string           `json:"name"`
	} `json:"request"`
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview or a ConversionReview", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(value); err != nil {
		log.Printf("writing the answer: %v", err)
	}
}

// admit answers every AdmissionReview: allowed, no patch.
func admit(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var review admissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	req := review.Request
	log.Printf("admission %s %s %s/%s %s %s/%s: allowed", r.URL.Path, req.Operation, req.Kind.Group,
		req.Kind.Version, req.Kind.Kind, req.Namespace, req.Name)
	apiVersion := review.APIVersion
	if apiVersion == "" {
		apiVersion = "admission.k8s.io/v1"
	}
	writeJSON(w, map[string]any{
		"apiVersion": apiVersion,
		"kind":       "AdmissionReview",
		"response":   map[string]any{"uid": req.UID, "allowed": true},
	})
}

type conversionReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID               string            `json:"uid"`
		DesiredAPIVersion string            `json:"desiredAPIVersion"`
		Objects           []json.RawMessage `json:"objects"`
	} `json:"request"`
}

// convert answers a ConversionReview; a failure is reported in the review, as the API expects.
func convert(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var review conversionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not a ConversionReview with a request", http.StatusBadRequest)
		return
	}
	req := review.Request
	converted := []any{}
	result := map[string]any{"status": "Success"}
	for _, raw := range req.Objects {
		object, err := convertObject(raw, req.DesiredAPIVersion)
		if err != nil {
			result = map[string]any{"status": "Failure", "message": err.Error()}
			converted = nil
			break
		}
		converted = append(converted, object)
	}
	log.Printf("conversion of %d object(s) to %s: %s", len(req.Objects), req.DesiredAPIVersion, result["status"])
	response := map[string]any{"uid": req.UID, "result": result}
	if converted != nil {
		response["convertedObjects"] = converted
	}
	apiVersion := review.APIVersion
	if apiVersion == "" {
		apiVersion = "apiextensions.k8s.io/v1"
	}
	writeJSON(w, map[string]any{"apiVersion": apiVersion, "kind": "ConversionReview", "response": response})
}

func convertObject(raw json.RawMessage, desired string) (map[string]any, error) {
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		return nil, fmt.Errorf("an object to convert is not JSON: %w", err)
	}
	from, _ := object["apiVersion"].(string)
	object["apiVersion"] = desired
	if from == desired || object["kind"] != "OpenTelemetryCollector" {
		return object, nil
	}
	spec, _ := object["spec"].(map[string]any)
	if spec == nil {
		return object, nil
	}
	var err error
	switch {
	case strings.HasSuffix(desired, "/v1alpha1"):
		err = toV1alpha1(spec)
	case strings.HasSuffix(desired, "/v1beta1"):
		err = toV1beta1(spec)
	default:
		err = fmt.Errorf("the operator stand-in cannot convert to %s", desired)
	}
	if err != nil {
		meta, _ := object["metadata"].(map[string]any)
		return nil, fmt.Errorf("%v/%v: %w", meta["namespace"], meta["name"], err)
	}
	return object, nil
}

func rename(spec map[string]any, from, to string) {
	if value, found := spec[from]; found {
		if _, taken := spec[to]; !taken {
			spec[to] = value
		}
		delete(spec, from)
	}
}

func prometheusCR(spec map[string]any) map[string]any {
	allocator, _ := spec["targetAllocator"].(map[string]any)
	if allocator == nil {
		return nil
	}
	cr, _ := allocator["prometheusCR"].(map[string]any)
	return cr
}

func toV1alpha1(spec map[string]any) error {
	if config, isObject := spec["config"].(map[string]any); isObject {
		// JSON is YAML: a v1alpha1 reader parses it as the string form.
		text, err := json.Marshal(config)
		if err != nil {
			return err
		}
		spec["config"] = string(text)
	}
	rename(spec, "daemonSetUpdateStrategy", "updateStrategy")
	if cr := prometheusCR(spec); cr != nil {
		for _, field := range []string{"podMonitorSelector", "serviceMonitorSelector"} {
			if selector, isMap := cr[field].(map[string]any); isMap {
				if labels, found := selector["matchLabels"]; found {
					cr[field] = labels
				} else {
					delete(cr, field)
				}
			}
		}
	}
	return nil
}

func toV1beta1(spec map[string]any) error {
	if text, isString := spec["config"].(string); isString {
		decoder := json.NewDecoder(strings.NewReader(text))
		decoder.UseNumber()
		config := map[string]any{}
		if strings.TrimSpace(text) != "" {
			if err := decoder.Decode(&config); err != nil {
				return errors.New("spec.config is YAML that is not JSON: the operator stand-in of the local node " +
					"reads only JSON there (the real operator reads any YAML)")
			}
		}
		for _, key := range []string{"receivers", "exporters"} {
			if config[key] == nil {
				config[key] = map[string]any{}
			}
		}
		service, _ := config["service"].(map[string]any)
		if service == nil {
			service = map[string]any{}
			config["service"] = service
		}
		if service["pipelines"] == nil {
			service["pipelines"] = map[string]any{}
		}
		spec["config"] = config
	}
	rename(spec, "updateStrategy", "daemonSetUpdateStrategy")
	minimum, hasMin := spec["minReplicas"]
	maximum, hasMax := spec["maxReplicas"]
	if hasMin || hasMax {
		autoscaler, _ := spec["autoscaler"].(map[string]any)
		if autoscaler == nil {
			autoscaler = map[string]any{}
			spec["autoscaler"] = autoscaler
		}
		if _, set := autoscaler["minReplicas"]; hasMin && !set {
			autoscaler["minReplicas"] = minimum
		}
		if _, set := autoscaler["maxReplicas"]; hasMax && !set {
			autoscaler["maxReplicas"] = maximum
		}
		delete(spec, "minReplicas")
		delete(spec, "maxReplicas")
	}
	if cr := prometheusCR(spec); cr != nil {
		for _, field := range []string{"podMonitorSelector", "serviceMonitorSelector"} {
			if labels, isMap := cr[field].(map[string]any); isMap {
				cr[field] = map[string]any{"matchLabels": labels}
			}
		}
	}
	return nil
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC | log.Lmicroseconds)
	// The release's arguments (--zap-log-level and such) are the real manager's: ignored here.
	log.Printf("OpenTelemetry Operator manager TEST STAND-IN (admission: allow all, no patch); args ignored: %q", os.Args[1:])
	dir := certDir
	if fromEnv := os.Getenv("WEBHOOK_CERT_DIR"); fromEnv != "" {
		dir = fromEnv
	}
	cert := &servingCert{dir: dir}

	health := http.NewServeMux()
	health.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	health.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := cert.load(); err != nil {
			http.Error(w, "webhook certificate: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	webhooks := http.NewServeMux()
	webhooks.HandleFunc("/convert", convert)
	webhooks.HandleFunc("/", admit)

	healthServer := &http.Server{Addr: healthAddr, Handler: health, ReadHeaderTimeout: 10 * time.Second}
	webhookServer := &http.Server{
		Addr:              webhookAddr,
		Handler:           webhooks,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.getCertificate},
	}
	failed := make(chan error, 2)
	go func() { failed <- healthServer.ListenAndServe() }()
	go func() { failed <- webhookServer.ListenAndServeTLS("", "") }()

	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	select {
	case err := <-failed:
		log.Fatalf("a server stopped: %v", err)
	case <-stop.Done():
		log.Printf("stopping")
		ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = webhookServer.Shutdown(ctx)
		_ = healthServer.Shutdown(ctx)
	}
}
