package cluster

import (
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigs maps each kubeconfig file (in the state folder) to the client
// certificate (in pki/) it authenticates with.
var kubeconfigs = map[string]string{
	"kubeconfig":                    "admin",
	"kubelet.kubeconfig":            "kubelet-client",
	"controller-manager.kubeconfig": "controller-manager",
	"scheduler.kubeconfig":          "scheduler",
	"kube-proxy.kubeconfig":         "kube-proxy",
}

// writeKubeconfigs writes the kubeconfigs, with the certificates embedded so
// that a copy works anywhere on the machine.
func writeKubeconfigs(c *Config) error {
	pki := c.Path("pki")
	ca, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return err
	}
	for file, cert := range kubeconfigs {
		crt, err := os.ReadFile(filepath.Join(pki, cert+".crt"))
		if err != nil {
			return err
		}
		key, err := os.ReadFile(filepath.Join(pki, cert+".key"))
		if err != nil {
			return err
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters[NetworkName] = &clientcmdapi.Cluster{Server: c.APIServerURL(), CertificateAuthorityData: ca}
		cfg.AuthInfos[cert] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
		cfg.Contexts[NetworkName] = &clientcmdapi.Context{Cluster: NetworkName, AuthInfo: cert, Namespace: "default"}
		cfg.CurrentContext = NetworkName
		if err := clientcmd.WriteToFile(*cfg, c.Path(file)); err != nil {
			return err
		}
	}
	return nil
}
