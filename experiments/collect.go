package experiments

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Collector gathers probe samples: from the logs of probe client pods (each
// flow renamed <node>/<flow>, so a client pod that is replaced continues the
// same flow) and from probes the runner sends itself (external/<flow>).
type Collector struct {
	kube kubernetes.Interface
	log  Logger

	mu      sync.Mutex
	samples map[string][]probe.Sample
	streams map[string]bool // pod UIDs being followed
	local   map[string]bool // names of the flows RunLocal sends
	wg      sync.WaitGroup
}

// NewCollector returns an empty collector that reads pods through c and
// logs what it cannot read to log (nil: nowhere).
func NewCollector(c kubernetes.Interface, log Logger) *Collector {
	return &Collector{kube: c, log: log, samples: map[string][]probe.Sample{}, streams: map[string]bool{}, local: map[string]bool{}}
}

func (c *Collector) add(prefix string, s probe.Sample) {
	s.Flow = prefix + "/" + s.Flow
	c.mu.Lock()
	c.samples[s.Flow] = append(c.samples[s.Flow], s)
	c.mu.Unlock()
}

// FollowPods follows the logs of every pod matching selector in ns, now and
// as pods come and go, until ctx is done.
func (c *Collector) FollowPods(ctx context.Context, ns, selector string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			c.followNew(ctx, ns, selector)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (c *Collector) followNew(ctx context.Context, ns, selector string) {
	l, err := c.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return
	}
	for _, p := range l.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		c.mu.Lock()
		seen := c.streams[string(p.UID)]
		c.streams[string(p.UID)] = true
		c.mu.Unlock()
		if seen {
			continue
		}
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.stream(ctx, ns, p) }()
	}
}

// stream reads one pod's log until the pod ends or ctx is done.
func (c *Collector) stream(ctx context.Context, ns string, p corev1.Pod) {
	rc, err := c.kube.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	if err != nil {
		c.log.printf("collector: logs of %s: %v", p.Name, err)
		return
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s probe.Sample
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Flow != "" {
			c.add(p.Spec.NodeName, s)
		}
	}
}

// RunLocal sends a flow from the runner's own host until ctx is done, named
// external/<flow>: the view from outside the cluster. It fails, sending
// nothing, when a flow of that name was already started (the two would be
// measured as one).
func (c *Collector) RunLocal(ctx context.Context, f probe.Flow, o probe.Options) error {
	c.mu.Lock()
	dup := c.local[f.Name]
	c.local[f.Name] = true
	c.mu.Unlock()
	if dup {
		return fmt.Errorf("external flow name %q given twice (flow names must be unique: samples are told apart by name)", f.Name)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := probe.Run(ctx, f, o, func(s probe.Sample) { c.add("external", s) }); err != nil {
			c.log.printf("collector: external flow %s: %v", f.Name, err)
		}
	}()
	return nil
}

// Wait waits for every stream to end (after its ctx is done).
func (c *Collector) Wait() { c.wg.Wait() }

// Flows returns the flow names seen so far, sorted.
func (c *Collector) Flows() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.samples))
	for n := range c.samples {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Samples returns a copy of one flow's samples.
func (c *Collector) Samples(flow string) []probe.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]probe.Sample(nil), c.samples[flow]...)
}

// steadyTimeout is how long Steady waits for every flow to answer before
// the runner injects.
const steadyTimeout = 60 * time.Second

// Steady waits until n flows exist and each has answered its last `run`
// probes in a row: the steady state to inject from.
func (c *Collector) Steady(ctx context.Context, n, run int) error {
	var why string
	err := kube.Poll(ctx, steadyTimeout, func(context.Context) (bool, error) {
		names := c.Flows()
		if len(names) < n {
			why = fmt.Sprintf("%d of %d flows reporting (%s)", len(names), n, strings.Join(names, ", "))
			return false, nil
		}
		for _, f := range names {
			s := c.Samples(f)
			sort.Slice(s, func(i, j int) bool { return s[i].Sent.Before(s[j].Sent) })
			if len(s) < run {
				why = fmt.Sprintf("flow %s has %d samples", f, len(s))
				return false, nil
			}
			for _, x := range s[len(s)-run:] {
				if !x.Answered() {
					why = fmt.Sprintf("flow %s not answering (%s %s)", f, x.Result, x.Err)
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("no steady state: %s", why)
	}
	return nil
}
