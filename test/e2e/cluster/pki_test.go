package cluster

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/util/keyutil"
)

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestWritePKI checks that every certificate chains to the CA for its use,
// that the API server's names the addresses clients use, and that the
// service-account keys are what kube-apiserver reads.
func TestWritePKI(t *testing.T) {
	dir := t.TempDir()
	if err := writePKI(dir); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(dir, "ca.crt")))
	for _, spec := range certSpecs() {
		cert := readCert(t, filepath.Join(dir, spec.name+".crt"))
		usage := x509.ExtKeyUsageClientAuth
		if spec.server {
			usage = x509.ExtKeyUsageServerAuth
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s: %v", spec.name, err)
		}
		if cert.Subject.CommonName != spec.cn {
			t.Errorf("%s: CN %q, want %q", spec.name, cert.Subject.CommonName, spec.cn)
		}
		if _, err := keyutil.PrivateKeyFromFile(filepath.Join(dir, spec.name+".key")); err != nil {
			t.Errorf("%s: %v", spec.name, err)
		}
	}
	api := readCert(t, filepath.Join(dir, "apiserver.crt"))
	for _, host := range []string{"127.0.0.1", NodeIP, KubernetesServiceIP, "localhost", "kubernetes.default.svc"} {
		if err := api.VerifyHostname(host); err != nil {
			t.Errorf("the API server's certificate: %v", err)
		}
	}
	admin := readCert(t, filepath.Join(dir, "admin.crt"))
	if len(admin.Subject.Organization) != 1 || admin.Subject.Organization[0] != "system:masters" {
		t.Errorf("admin's groups %v, want [system:masters]", admin.Subject.Organization)
	}
	if _, err := keyutil.PrivateKeyFromFile(filepath.Join(dir, "sa.key")); err != nil {
		t.Errorf("sa.key: %v", err)
	}
	if keys, err := keyutil.PublicKeysFromFile(filepath.Join(dir, "sa.pub")); err != nil || len(keys) != 1 {
		t.Errorf("sa.pub: %d keys, %v", len(keys), err)
	}
}
