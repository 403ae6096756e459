package trafficpolicy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// The test load balancer stands in, on kind, for a load balancer that
// proxies (a cloud LB) and says so with status.loadBalancer.ingress[].ipMode
// Proxy (KEP-1860, GA in v1.32): kube-proxy then binds and captures nothing
// for that address, and in-cluster clients go to the load balancer as
// outside ones do. MetalLB cannot be used for it: it never sets ipMode, and
// an L2 address with ipMode Proxy would reach a node where nothing answers
// for it. So the Services carry a loadBalancerClass MetalLB ignores (it
// skips any class but its own), and the experiment acts as their load
// balancer controller: one relay pod per Service, and a status write giving
// the Service the relay pod's address with ipMode Proxy. This is test-only
// state, recorded in the report's actions. The relay forwards the Service
// port (TCP and UDP) to a NodePort, as a cloud LB forwards to nodes its
// health check passes (policy Local: the endpoint's node), and answers
// closedPort itself: another listener of the load balancer, the seed's
// CLB :443.

// testLBClass is the loadBalancerClass of the test load balancer's Services.
const testLBClass = "netchaos.io/test-proxy-lb"

// testLBPrefix names the relay pods (and so their own answers).
const testLBPrefix = "testlb"

// deployTestLB creates the ipMode Proxy Services and their relays, and
// returns the Services with their status written, keyed by policy. Each
// status write is a recorded action of the run: test-only state.
func deployTestLB(ctx context.Context, r *experiments.Run, workers []experiments.Node) (map[string]*corev1.Service, error) {
	out := map[string]*corev1.Service{}
	ns := r.Namespace
	// The relays run off the two client workers: on a control-plane node
	// (kind), else a third worker; with neither, on the second worker.
	lbHome := workers[1]
	for _, n := range r.Cluster.Nodes {
		if n.ControlPlane {
			lbHome = n
			break
		}
	}
	if len(workers) > 2 && lbHome.Name == workers[1].Name {
		lbHome = workers[2]
	}
	lbNode := lbHome.Name
	for _, p := range Policies {
		name := "web-" + strings.ToLower(p) + "-proxy"
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: r.Labels("service")},
			Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				LoadBalancerClass:     ptr.To(testLBClass),
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicy(p),
				Selector:              map[string]string{"app": "web"},
				Ports:                 servicePorts(),
			},
		}
		s, err := r.Kube.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("create service %s: %w", name, err)
		}
		// Policy Local: the node the health check passes (the endpoint's).
		// Cluster: any node forwards; the relay's own node, which is no
		// client's, so a SNAT address never equals a client's by chance.
		relay := workers[0]
		if p == "Cluster" {
			relay = lbHome
		}
		args := []string{"lbproxy", "--listen", fmt.Sprintf(":%d", port), "--own", fmt.Sprintf(":%d", closedPort)}
		for _, sp := range s.Spec.Ports {
			args = append(args, "--relay-"+strings.ToLower(string(sp.Protocol)), net.JoinHostPort(relay.IP, fmt.Sprint(sp.NodePort)))
		}
		labels := r.Labels("test-lb")
		labels["netchaos.io/test-lb"] = strings.ToLower(p)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: testLBPrefix + "-" + strings.ToLower(p), Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName: lbNode, TerminationGracePeriodSeconds: ptr.To[int64](1),
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers:  []corev1.Container{r.Container("lb", args...)},
			},
		}
		if _, err := r.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create %s: %w", pod.Name, err)
		}
		pods, err := kube.ReadyPods(ctx, r.Kube, ns, "netchaos.io/test-lb="+strings.ToLower(p), 1)
		if err != nil {
			return nil, err
		}
		ip := pods[0].Status.PodIP
		status := fmt.Sprintf(`{"status":{"loadBalancer":{"ingress":[{"ip":%q,"ipMode":%q}]}}}`, ip, corev1.LoadBalancerIPModeProxy)
		write := fmt.Sprintf("test-only: wrote status.loadBalancer of Service %s: ingress %s ipMode Proxy (relay pod %s on %s, forwarding :%d to NodePort on %s, own listener :%d)",
			name, ip, pods[0].Name, pods[0].Spec.NodeName, port, relay.Name, closedPort)
		if err := r.Do(write, func() error {
			_, err := r.Kube.CoreV1().Services(ns).Patch(ctx, name, types.MergePatchType, []byte(status), metav1.PatchOptions{}, "status")
			return err
		}); err != nil {
			return nil, fmt.Errorf("write the test load balancer's status of %s: %w", name, err)
		}
		if out[p], err = kube.ServiceReady(ctx, r.Kube, ns, name, true); err != nil {
			return nil, err
		}
		if got := out[p].Status.LoadBalancer.Ingress; len(got) != 1 || got[0].IPMode == nil || *got[0].IPMode != corev1.LoadBalancerIPModeProxy {
			return nil, fmt.Errorf("service %s: status.loadBalancer is %+v after the write (another controller owns it?)", name, got)
		}
	}
	return out, nil
}

// LBProxy is the test load balancer's relay: it forwards TCP connections
// and UDP datagrams arriving on listen to relayTCP and relayUDP, and
// answers probes on own itself (as id), until ctx is done.
func LBProxy(ctx context.Context, id probe.Identity, listen, relayTCP, relayUDP, own string) error {
	var lc net.ListenConfig
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	if relayTCP != "" {
		l, err := lc.Listen(ctx, "tcp", listen)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); errc <- relayTCPConns(ctx, l, relayTCP) }()
	}
	if relayUDP != "" {
		c, err := lc.ListenPacket(ctx, "udp4", listen)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); errc <- relayUDPDatagrams(ctx, c, relayUDP) }()
	}
	if own != "" {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- probe.Echo(ctx, id, []string{own}, []string{own}) }()
	}
	go func() { wg.Wait(); close(errc) }()
	var first error
	for err := range errc {
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func relayTCPConns(ctx context.Context, l net.Listener, to string) error {
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		go func() {
			defer c.Close()
			u, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", to)
			if err != nil {
				return
			}
			defer u.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(u, c); done <- struct{}{} }()
			go func() { io.Copy(c, u); done <- struct{}{} }()
			<-done
		}()
	}
}

// relayUDPDatagrams keeps one upstream socket per client address, so every
// client gets its answers back from the address it sent to.
func relayUDPDatagrams(ctx context.Context, c net.PacketConn, to string) error {
	type session struct {
		up   net.Conn
		last time.Time
	}
	var mu sync.Mutex
	sessions := map[string]*session{}
	go func() { <-ctx.Done(); c.Close() }()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				mu.Lock()
				for k, s := range sessions {
					if now.Sub(s.last) > 30*time.Second {
						s.up.Close()
						delete(sessions, k)
					}
				}
				mu.Unlock()
			}
		}
	}()
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				mu.Lock()
				for _, s := range sessions {
					s.up.Close()
				}
				mu.Unlock()
				return nil
			}
			continue
		}
		mu.Lock()
		s, ok := sessions[from.String()]
		if !ok {
			up, err := net.Dial("udp4", to)
			if err != nil {
				mu.Unlock()
				continue
			}
			s = &session{up: up}
			sessions[from.String()] = s
			go func() {
				b := make([]byte, 2048)
				for {
					m, err := up.Read(b)
					if err != nil {
						if errors.Is(err, net.ErrClosed) {
							return
						}
						continue // ICMP errors from upstream: keep the session
					}
					c.WriteTo(b[:m], from)
				}
			}()
		}
		s.last = time.Now()
		up := s.up
		mu.Unlock()
		up.Write(buf[:n])
	}
}
