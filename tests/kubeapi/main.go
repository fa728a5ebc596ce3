// A real Kubernetes API server for railyard's tests: etcd (go.etcd.io/etcd/server/v3, embedded)
// and kube-apiserver (k8s.io/kubernetes, the version go.mod pins) in one process, as
// controller developers run them under envtest.
//
//	kubeapi DIR
//
// writes its state under DIR, listens on free loopback ports, and once /readyz answers writes
// DIR/kubeconfig (a static bearer token with cluster-admin rights, the serving certificate
// skipped) and prints "ready" on standard output. It runs until it is killed.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const token = "railyard-test-token"

func main() {
	if len(os.Args) != 2 {
		fail("usage: kubeapi DIR")
	}
	dir := os.Args[1]
	etcdURL := "http://127.0.0.1:" + freePort()
	startEtcd(dir, etcdURL)
	port := freePort()
	args := apiserverArgs(dir, etcdURL, port)
	go func() {
		cmd := app.NewAPIServerCommand()
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			fail("kube-apiserver: " + err.Error())
		}
	}()
	server := "https://127.0.0.1:" + port
	waitReady(server)
	writeKubeconfig(filepath.Join(dir, "kubeconfig"), server)
	fmt.Println("ready")
	select {}
}

func startEtcd(dir, client string) {
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	clientURL, _ := url.Parse(client)
	peerURL, _ := url.Parse("http://127.0.0.1:" + freePort())
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "error"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fail("etcd: " + err.Error())
	}
	<-e.Server.ReadyNotify()
}

func apiserverArgs(dir, etcdURL, port string) []string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		fail(err.Error())
	}
	public, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		fail(err.Error())
	}
	write(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	write(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: public}))
	write(filepath.Join(dir, "tokens.csv"), []byte(token+`,admin,admin,"system:masters"`+"\n"))
	return []string{
		"--etcd-servers=" + etcdURL,
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--bind-address=127.0.0.1",
		"--secure-port=" + port,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		// As k3s runs it: kured and the upgrade Jobs need privileged containers.
		"--allow-privileged=true",
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
	}
}

func waitReady(server string) {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		request, _ := http.NewRequest("GET", server+"/readyz", nil)
		request.Header.Set("Authorization", "Bearer "+token)
		if response, err := client.Do(request); err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	fail("kube-apiserver was not ready within 2 minutes")
}

func writeKubeconfig(path, server string) {
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context:
    cluster: test
    user: admin
current-context: test
`, server, token)
	write(path, []byte(text))
}

func freePort() string {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err.Error())
	}
	defer listener.Close()
	_, port, _ := net.SplitHostPort(listener.Addr().String())
	return port
}

func write(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "kubeapi:", message)
	os.Exit(1)
}
